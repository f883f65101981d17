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

/// A codec a scenario can choose by name (`compression.codec: lz4`).
///
/// A registered codec names itself, summarises itself in one line and can be made without
/// arguments; listing its type in `PageCodecRegistry.codecs` makes it selectable.
public protocol RegisteredPageCodec: PageCodec {
    /// The name scenarios, `analyze --codec` and reports use (`lz4`).
    static var codecName: String { get }
    /// One line for `overcommit policies` and the configuration reference.
    static var summary: String { get }
    /// The codec with its default settings.
    init()
}

extension RegisteredPageCodec {
    public var name: String { Self.codecName }
}

/// The page codecs: the single list behind `host.compression.codec`, `analyze --codec`,
/// `overcommit policies` and the codec tests. Adding a codec is one new file (a
/// `RegisteredPageCodec`) and one line here.
public enum PageCodecRegistry {
    public static let codecs: [any RegisteredPageCodec.Type] = [
        LZ4Codec.self,
        ZstdCodec.self,
    ]
}

/// A registered codec, named as scenarios write it.
public struct CodecKind: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The codec's type.
    public let codecType: any RegisteredPageCodec.Type

    public init(_ codecType: any RegisteredPageCodec.Type) { self.codecType = codecType }

    /// The registered codec called `rawValue`, if any.
    public init?(rawValue: String) {
        guard let t = PageCodecRegistry.codecs.first(where: { $0.codecName == rawValue }) else { return nil }
        self.init(t)
    }

    /// Every registered codec, in registry order.
    public static var allCases: [CodecKind] { PageCodecRegistry.codecs.map(CodecKind.init) }

    public var rawValue: String { codecType.codecName }
    public var description: String { rawValue }
    /// One line for `overcommit policies` and the configuration reference.
    public var summary: String { codecType.summary }

    /// A new codec of this kind.
    public func make() -> any PageCodec { codecType.init() }

    public static func == (a: CodecKind, b: CodecKind) -> Bool { a.rawValue == b.rawValue }
    public func hash(into h: inout Hasher) { h.combine(rawValue) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let name = try c.decode(String.self)
        guard let k = CodecKind(rawValue: name) else {
            throw DecodingError.dataCorruptedError(
                in: c,
                debugDescription:
                    "unknown codec '\(name)'; allowed: " + CodecKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = k
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
