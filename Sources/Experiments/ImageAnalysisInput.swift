import PageContents

/// A memory image seen as consecutive 4 KiB pages, as `overcommit analyze` reads it.
///
/// Page `i` is bytes `i * 4096 ..< (i + 1) * 4096` of the image; a last partial page is
/// zero-padded, as `MemoryImage` (the simulator's loader of raw images) does, so an image
/// analysed here and an image a scenario's guests boot from hold the same pages. For an ELF
/// core the pages are those of its PT_LOAD segments, one after the other, each segment's
/// last page zero-padded (`layout`). The command line conforms a file read in windows to it
/// (so a multi-GiB dump is never copied whole); tests and scenarios use `MemoryImage`. No
/// I/O happens through this protocol's users.
public protocol ImageAnalysisInput {
    /// A label for reports; also the VM name whose ESX salt (`Mem.ShareForceSalting` 2)
    /// seeds the image's salted page hashes.
    var name: String { get }
    /// Length of the original data in bytes, before padding.
    var byteCount: Int { get }
    /// Number of 4 KiB pages, the last one zero-padded: `ceil(byteCount / 4096)`.
    var pageCount: Int { get }
    /// Calls `body` with a pointer to the 4096 bytes of page `i` (valid only inside `body`).
    func withPage<R>(_ i: Int, _ body: (UnsafeRawPointer) throws -> R) rethrows -> R
    /// Where the pages come from in the file (raw, or an ELF core's segments); nil for an
    /// image in memory.
    var layout: ImageLayout? { get }
}

extension ImageAnalysisInput {
    public var layout: ImageLayout? { nil }
}

extension MemoryImage: ImageAnalysisInput {}
