import CZstd

/// Zstandard compression of single pages through libzstd (level 1 by default).
///
/// Linux zswap and zram offer `zstd` next to `lz4`: slower (about 78 k pages/s against
/// LZ4's 214 k on one core here) but more pages fit in half a page (0.69 against 0.58 of
/// real pages, swift-notes.md). Each page is compressed on its own, without a dictionary.
public struct ZstdCodec: RegisteredPageCodec {
    public static let codecName = "zstd"
    public static let summary = "Zstandard level 1 (libzstd): ~2.7x slower than LZ4, ~69 % of real pages fit in 2 KiB"
    public let level: Int32

    /// Level 1, the level zswap and zram use for `zstd`.
    public init() { self.init(level: 1) }
    public init(level: Int32) { self.level = level }

    public var worstCaseSize: Int { Int(ZSTD_compressBound(pageSize)) }

    public func compress(_ src: UnsafeRawPointer, into dst: UnsafeMutableRawPointer, capacity: Int) -> Int? {
        guard capacity > 0 else { return nil }
        let n = ZSTD_compress(dst, capacity, src, pageSize, level)
        return ZSTD_isError(n) != 0 ? nil : Int(n)
    }

    public func decompress(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutableRawPointer) -> Bool {
        guard count > 0 else { return false }
        let n = ZSTD_decompress(dst, pageSize, src, count)
        return ZSTD_isError(n) == 0 && n == pageSize
    }
}

extension CodecKind {
    /// Zstandard level 1 through libzstd, as zswap's and zram's `zstd` compressor.
    public static let zstd = CodecKind(ZstdCodec.self)
}
