import ArgumentParser
import Experiments
import Hypervisor
import OvercommitSupport
import PageContents
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// `overcommit analyze IMAGE...`: zero pages, duplicates, TPS savings and compressibility of
/// raw memory images, with the simulator's own hash, comparison and codecs.
struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Analyse raw memory images (4 KiB pages): zero and duplicate pages, TPS savings with salting off and on, compressibility per codec.",
        discussion: """
            Each file is read as 4 KiB pages: a raw guest RAM dump, a .vmem file, a dd of a VM's \
            memory backing file (a last partial page is zero-padded), whatever its first bytes; or \
            an ELF core (e_type ET_CORE: QEMU dump-guest-memory in its default format, virsh dump \
            --memory-only, kdump's /proc/vmcore, gcore), whose PT_LOAD segments are read and whose \
            guest-physical ranges are reported. kdump-compressed and Windows crash dumps are refused \
            with how to get a readable dump (docs/howto-analyze-images.md). Files are read, not \
            mapped: a file that changes while it is read is reported, not analysed. Sharing follows \
            the simulator's KSM scanner at convergence; compression uses the host's threshold \
            (default 50 %).
            """)

    @Argument(help: "Memory image files (raw or ELF core).")
    var images: [String]

    @Flag(help: "Read every file as raw 4 KiB pages from offset 0, even one that looks like an ELF core or a kdump file.")
    var raw = false

    @Flag(help: "Print JSON (stable key order) instead of the tables.")
    var json = false

    @Option(help: "Codecs to measure, comma-separated (\(CodecKind.allCases.map(\.rawValue).joined(separator: ", "))).")
    var codec: String = CodecKind.allCases.map(\.rawValue).joined(separator: ",")

    @Option(help: "host.compression.threshold: keep a page compressed only below this share of 4 KiB.")
    var threshold: String = "50%"

    @Option(
        name: .customLong("max-page-sharing"), parsing: .unconditional,
        help: "host.sharing.max_page_sharing (KSM): mappings of one shared frame before another copy starts.")
    var maxPageSharing: Int = SharingConfig().max_page_sharing

    @Flag(
        name: .customLong("no-zero-page-frame"),
        help: "host.sharing.use_zero_pages false: share zero pages like any other content (salted, counted in pages_shared/pages_sharing).")
    var noZeroPageFrame = false

    mutating func run() throws {
        var options = ImageAnalysisOptions()
        var codecs: [CodecKind] = []
        for name in codec.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let k = CodecKind(rawValue: name) else {
                fail("--codec: unknown codec '\(name)'; allowed: \(CodecKind.allCases.map(\.rawValue).joined(separator: ", "))", code: 64)
            }
            if !codecs.contains(k) { codecs.append(k) }
        }
        if codecs.isEmpty { fail("--codec: no codec named (got '\(codec)'); allowed: \(CodecKind.allCases.map(\.rawValue).joined(separator: ", "))", code: 64) }
        options.codecs = codecs
        guard let t = Percentage.parse(threshold) else { fail("--threshold: '\(threshold)' is not a percentage; write e.g. 50%", code: 64) }
        options.threshold = t
        options.maxPageSharing = maxPageSharing
        options.useZeroPages = !noZeroPageFrame
        if let problem = options.validationProblems().first { fail("--" + problem, code: 64) }

        var files: [ImageFile] = []
        for path in images {
            do { files.append(try ImageFile(path: path, forceRaw: raw)) } catch { fail("\(error)") }
        }
        let showProgress = isatty(2) != 0
        let result = ImageAnalysis.analyze(
            files, options: options,
            progress: showProgress
                ? { done, all in
                    FileHandle.standardError.write(Data("\ranalyze: \(done * 100 / max(1, all))% of \(all) pages ".utf8))
                } : nil)
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        // A file that changed under the analysis gave pages that are not one dump: no result.
        for f in files {
            if let problem = f.finish() { fail(problem, code: 1) }
        }
        if json { print(result.json().rendered(indent: 2)) } else { for l in result.textLines() { print(l) } }
    }
}

/// An image file read with pread(2) through a window of 1 MiB, never mapped: a file that
/// shrinks while it is read cannot kill the process with SIGBUS; the short read is recorded
/// and `finish()` reports it (as it reports a change of size or modification time). The
/// pages are the file's (raw) or its ELF core segments' (`ImageLayout`), each segment's last
/// page zero-padded.
final class ImageFile: ImageAnalysisInput {
    let name: String
    let layout: ImageLayout?
    let byteCount: Int
    let pageCount: Int
    private let fd: Int32
    private let starts: [Int]
    private let segments: [ImageLayout.Segment]
    private let before: stat
    /// The read window: `windowLength` bytes of the file from `windowOffset`.
    private let window: UnsafeMutableRawPointer
    private let windowCapacity = 1 << 20
    private var windowOffset: UInt64 = 0
    private var windowLength = 0
    /// A zero-padded copy for pages that end a segment or straddle the window.
    private let page: UnsafeMutableRawPointer
    private var problem: String?

    struct OpenError: Error, CustomStringConvertible {
        var description: String
    }

    init(path: String, forceRaw: Bool) throws {
        name = path
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw OpenError(description: "\(path): cannot read the image: \(String(cString: strerror(errno)))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw OpenError(description: "\(path): is a directory, not a memory image") }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw OpenError(description: "\(path): not a regular file (pipes and devices cannot be read as images; copy it to a file first)")
        }
        guard st.st_size > 0 else { throw OpenError(description: "\(path): is empty (0 bytes): a memory image holds at least one page") }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw OpenError(description: "\(path): cannot read the image: \(String(cString: strerror(errno)))") }
        self.fd = fd
        before = st
        window = UnsafeMutableRawPointer.allocate(byteCount: windowCapacity, alignment: 4096)
        page = UnsafeMutableRawPointer.allocate(byteCount: pageSize, alignment: 4096)
        let size = UInt64(st.st_size)
        let l: ImageLayout
        do {
            l = try ImageLayout.detect(path: path, fileSize: size, forceRaw: forceRaw) { offset, count in
                var b = [UInt8](repeating: 0, count: count)
                let n = b.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
                return Array(b.prefix(max(0, n)))
            }
        } catch {
            close(fd)
            window.deallocate(); page.deallocate()
            throw OpenError(description: "\(error)")
        }
        layout = l
        segments = l.segments
        starts = l.segmentStarts
        byteCount = l.byteCount
        pageCount = l.pageCount
        #if os(Linux)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        #endif
    }

    deinit {
        close(fd)
        window.deallocate()
        page.deallocate()
    }

    /// Makes [offset, offset + count) readable in the window; returns the bytes available
    /// there (fewer if the file ended early, which is recorded).
    private func load(_ offset: UInt64, _ count: Int) -> Int {
        if offset >= windowOffset && offset + UInt64(count) <= windowOffset + UInt64(windowLength) { return count }
        windowOffset = offset & ~UInt64(pageSize - 1)
        let want = windowCapacity
        var got = 0
        while got < want {
            let n = pread(fd, window + got, want - got, off_t(windowOffset + UInt64(got)))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        windowLength = got
        let have = max(0, min(count, Int(Int64(windowOffset) + Int64(got) - Int64(offset))))
        if have < count && problem == nil {
            problem =
                "\(name): the file changed while it was read: \(count) bytes expected at offset \(offset), the file ended after \(Int(offset) + have) (it was \(before.st_size) bytes when opened); the analysis is discarded, analyse a copy that nothing writes to"
        }
        return have
    }

    func withPage<R>(_ i: Int, _ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
        precondition(i >= 0 && i < pageCount, "page \(i) is outside image '\(name)' of \(pageCount) pages")
        let (si, pi) = layout!.locate(page: i, starts: starts)
        let seg = segments[si]
        let offset = seg.fileOffset + UInt64(pi * pageSize)
        let count = Int(min(UInt64(pageSize), seg.byteCount - UInt64(pi * pageSize)))
        let have = load(offset, count)
        if have == pageSize { return try body(UnsafeRawPointer(window + Int(offset - windowOffset))) }
        page.initializeMemory(as: UInt8.self, repeating: 0, count: pageSize)
        if have > 0 { page.copyMemory(from: window + Int(offset - windowOffset), byteCount: have) }
        return try body(UnsafeRawPointer(page))
    }

    /// After the analysis: why its figures are not those of one dump (a short read, or the
    /// file's size or modification time changed meanwhile), or nil.
    func finish() -> String? {
        if let problem { return problem }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return "\(name): cannot check the image after reading it: \(String(cString: strerror(errno)))" }
        if st.st_size != before.st_size || st.st_mtim.tv_sec != before.st_mtim.tv_sec || st.st_mtim.tv_nsec != before.st_mtim.tv_nsec {
            return
                "\(name): the file changed while it was read (size \(before.st_size) -> \(st.st_size) bytes, or a new modification time); the analysis is discarded, analyse a copy that nothing writes to"
        }
        return nil
    }
}
