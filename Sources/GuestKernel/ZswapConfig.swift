import OvercommitSupport
import PageContents

/// zswap's module parameters (/sys/module/zswap/parameters/*, Linux mm/zswap.c and
/// Documentation/admin-guide/mm/zswap.rst): a compressed write-back cache in front of the
/// guest's swap device, in guest RAM.
///
/// Defaults are Linux's except two that need a name: the compressor (Linux's Kconfig default
/// is lzo, which this build does not have; lz4 is the fast codec it has) and the allocator,
/// which is always zsmalloc (`ZsmallocPool`; zbud and z3fold, the older zpools, are not
/// modelled).
public struct ZswapConfig: ParameterTable {
    /// zswap.enabled: off by default (CONFIG_ZSWAP_DEFAULT_ON=n).
    public var enabled: Bool = false
    /// zswap.compressor.
    public var compressor: String = "lz4"
    /// zswap.max_pool_percent: most of guest RAM (totalram_pages) the pool may occupy.
    public var max_pool_percent: Int = 20
    /// zswap.accept_threshold_percent: once the pool hit its limit, stores resume only when it
    /// is back at or below this share of the limit (hysteresis, Linux 5.6+).
    public var accept_threshold_percent: Int = 90
    /// zswap.same_filled_pages_enabled (Linux 4.16 on; later 6.x kernels dropped the knob and
    /// keep only zero-filled pages out of the pool): pages whose 64-bit words are all equal
    /// are stored as that word, with no compression and no pool memory.
    public var same_filled_pages_enabled: Bool = true

    public init() {}

    public static let tableName = "guest.kernel.zswap"
    public static let tableSummary =
        "zswap (Linux mm/zswap.c): a compressed cache in guest RAM in front of the swap device; module parameters with Linux's defaults."
    public static let fields: [ParameterField<Self>] = [
        .init(\.enabled, "enabled", "swap-outs are first compressed into a pool in guest RAM (zsmalloc); rejected pages go to the swap device"),
        .init(\.compressor, "compressor", "codec compressing the pages (a real library run on the page bytes)", choices: codecNames, noun: "codec"),
        .init(
            \.max_pool_percent, "max_pool_percent", "most guest RAM the pool may take; at the limit zswap rejects stores and writes back its oldest entries",
            .range(1...100), unit: "percent"),
        .init(
            \.accept_threshold_percent, "accept_threshold_percent", "after hitting the limit, stores resume when the pool is at or below this share of it",
            .range(0...100, because: "Linux's range"), unit: "percent"),
        .init(\.same_filled_pages_enabled, "same_filled_pages_enabled", "store pages of one repeated 64-bit word as that word, without pool memory"),
    ]

    /// Names of the codecs this build can run.
    public static var codecNames: [String] { CodecKind.allCases.map(\.rawValue) }
}
