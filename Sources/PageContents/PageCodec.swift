/// A compressor of single 4 KiB pages, as a compression cache or zswap pool uses one.
///
/// ESX (since 4.1) compresses a page chosen for host swap-out and keeps it in the VM's
/// compression cache only if it fits in 2 KiB; Linux zswap keeps it if it compresses at
/// all (below its accept threshold). Both need "compress into at most N bytes or fail",
/// which is what `compress(_:into:capacity:)` offers. Implementations must be stateless
/// (or internally synchronised) so one value can be shared between threads.
public protocol PageCodec: Sendable {
    /// A short name for reports and scenario files (`lz4`).
    var name: String { get }
    /// The largest output `compress` can produce for one page (LZ4_compressBound(4096)):
    /// pass it as `capacity` to always learn the true compressed size.
    var worstCaseSize: Int { get }
    /// Compresses the 4096 bytes at `src` into `dst`, writing at most `capacity` bytes.
    /// Returns the compressed size, or nil when the result did not fit in `capacity`.
    func compress(_ src: UnsafeRawPointer, into dst: UnsafeMutableRawPointer, capacity: Int) -> Int?
    /// Decompresses `count` bytes at `src` into the 4096 bytes at `dst`.
    /// Returns true iff the input was valid and produced exactly 4096 bytes.
    func decompress(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutableRawPointer) -> Bool
}

extension PageCodec {
    /// The true compressed size of the page at `src`, using a stack scratch buffer.
    public func compressedSize(_ src: UnsafeRawPointer) -> Int {
        withUnsafeTemporaryAllocation(byteCount: worstCaseSize, alignment: 16) { buf in
            compress(src, into: buf.baseAddress!, capacity: buf.count) ?? worstCaseSize
        }
    }
}

/// The page codecs a scenario can choose (`compression.codec:`). Add a case and its
/// `make()` to register another codec.
public enum CodecKind: String, CaseIterable, Codable, Sendable {
    /// LZ4 through liblz4, as zswap's and zram's `lz4` compressor.
    case lz4
    /// Zstandard level 1 through libzstd, as zswap's and zram's `zstd` compressor.
    case zstd

    /// A new codec of this kind.
    public func make() -> any PageCodec {
        switch self {
        case .lz4: LZ4Codec()
        case .zstd: ZstdCodec()
        }
    }

    /// One line for `overcommit policies` and the configuration reference.
    public var summary: String {
        switch self {
        case .lz4: "LZ4 (liblz4, LZ4_compress_default): fast byte-oriented LZ77, ~58 % of real pages fit in 2 KiB"
        case .zstd: "Zstandard level 1 (libzstd): ~2.7x slower than LZ4, ~69 % of real pages fit in 2 KiB"
        }
    }
}
