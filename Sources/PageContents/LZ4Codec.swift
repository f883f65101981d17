import CLZ4

/// LZ4 block compression of single pages through liblz4.
///
/// Linux zswap and zram offer `lz4` as a compressor (crypto/lz4.c wraps the same
/// `LZ4_compress_default`/`LZ4_decompress_safe` calls); ESX's compression cache uses its
/// own fast LZ-class codec. Each page is compressed independently (no dictionary, no
/// frame header), so a page's compressed size depends only on its bytes.
public struct LZ4Codec: RegisteredPageCodec {
    public static let codecName = "lz4"
    public static let summary = "LZ4 (liblz4, LZ4_compress_default): fast byte-oriented LZ77, ~58 % of real pages fit in 2 KiB"
    /// `LZ4_compressBound(4096)` = 4096 + 4096 / 255 + 16 = 4128 bytes.
    public static let maxCompressedSize = Int(LZ4_compressBound(Int32(pageSize)))

    public init() {}

    public var worstCaseSize: Int { LZ4Codec.maxCompressedSize }

    public func compress(_ src: UnsafeRawPointer, into dst: UnsafeMutableRawPointer, capacity: Int) -> Int? {
        guard capacity > 0 else { return nil }
        let n = LZ4_compress_default(
            src.assumingMemoryBound(to: CChar.self), dst.assumingMemoryBound(to: CChar.self),
            Int32(pageSize), Int32(clamping: capacity))
        return n > 0 ? Int(n) : nil
    }

    public func decompress(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutableRawPointer) -> Bool {
        guard count > 0 else { return false }
        let n = LZ4_decompress_safe(
            src.assumingMemoryBound(to: CChar.self), dst.assumingMemoryBound(to: CChar.self),
            Int32(clamping: count), Int32(pageSize))
        return n == Int32(pageSize)
    }
}

extension CodecKind {
    /// LZ4 through liblz4, as zswap's and zram's `lz4` compressor.
    public static let lz4 = CodecKind(LZ4Codec.self)
}
