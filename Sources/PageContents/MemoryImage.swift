/// The bytes of a raw memory image, read as consecutive 4 KiB pages.
///
/// A guest RAM dump (QEMU `dump-guest-memory`/`pmemsave`, an ESX `.vmem` file) or any file
/// taken as physical memory: page `i` is bytes `i * 4096 ..< (i + 1) * 4096`, and the last
/// partial page is zero-padded as a guest sees the rest of a frame after a short read.
/// The bytes live in one contiguous buffer so pages are hashed and compared from a base
/// pointer plus an offset, never through per-page arrays. No file I/O happens here: the
/// command-line front end reads files and hands their bytes in.
public struct MemoryImage: Sendable {
    /// A label for reports (usually the file name).
    public let name: String
    /// Length of the original data in bytes, before padding.
    public let byteCount: Int
    /// Number of 4 KiB pages, the last one zero-padded: `ceil(byteCount / 4096)`.
    public let pageCount: Int
    /// The bytes, padded with zeros to `pageCount * pageSize`.
    @usableFromInline let storage: [UInt8]

    /// An image of `bytes`, zero-padded to a whole number of pages.
    public init(name: String, bytes: [UInt8]) {
        self.name = name
        byteCount = bytes.count
        pageCount = (bytes.count + pageSize - 1) >> pageShift
        let padding = pageCount * pageSize - bytes.count
        if padding == 0 {
            storage = bytes
        } else {
            var padded = bytes
            padded.append(contentsOf: repeatElement(0, count: padding))
            storage = padded
        }
    }

    /// Calls `body` with a pointer to the 4096 bytes of page `i` (valid only inside `body`).
    ///
    /// - Precondition: `0 <= i < pageCount`.
    @inlinable
    public func withPage<R>(_ i: Int, _ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
        precondition(i >= 0 && i < pageCount, "page \(i) is outside image '\(name)' of \(pageCount) pages")
        return try storage.withUnsafeBytes { buf in try body(buf.baseAddress! + (i << pageShift)) }
    }
}
