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
        Each file is read as consecutive 4 KiB pages (a raw guest RAM dump, a .vmem file, a dd \
        of a VM's memory backing file); a last partial page is zero-padded. ELF cores (QEMU \
        dump-guest-memory in its default format, virsh dump, gcore) are refused: convert them \
        to raw first (see docs/howto-analyze-images.md). Sharing follows the simulator's KSM \
        scanner at convergence; compression uses the host's threshold (default 50 %).
        """)

    @Argument(help: "Raw memory image files.")
    var images: [String]

    @Flag(help: "Print JSON (stable key order) instead of the tables.")
    var json = false

    @Option(help: "Codecs to measure, comma-separated (\(CodecKind.allCases.map(\.rawValue).joined(separator: ", "))).")
    var codec: String = CodecKind.allCases.map(\.rawValue).joined(separator: ",")

    @Option(help: "host.compression.threshold: keep a page compressed only below this share of 4 KiB.")
    var threshold: String = "50%"

    @Option(name: .customLong("max-page-sharing"), parsing: .unconditional, help: "host.sharing.max_page_sharing (KSM): mappings of one shared frame before another copy starts.")
    var maxPageSharing: Int = SharingConfig().max_page_sharing

    @Flag(name: .customLong("no-zero-page-frame"), help: "host.sharing.use_zero_pages false: share zero pages like any other content (salted, counted in pages_shared/pages_sharing).")
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

        var mapped: [MappedImage] = []
        for path in images {
            do { mapped.append(try MappedImage(path: path)) }
            catch { fail("\(error)") }
        }
        let showProgress = isatty(2) != 0
        let result = ImageAnalysis.analyze(mapped, options: options, progress: showProgress ? { done, all in
            FileHandle.standardError.write(Data("\ranalyze: \(done * 100 / max(1, all))% of \(all) pages ".utf8))
        } : nil)
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if json { print(result.json().rendered(indent: 2)) }
        else { for l in result.textLines() { print(l) } }
    }
}

/// A file mapped read-only as an image: the kernel pages it in on demand and may drop it
/// again, so a dump larger than RAM is analysed without being copied. A last partial page
/// is copied into a zero-padded buffer.
final class MappedImage: ImageAnalysisInput {
    let name: String
    let byteCount: Int
    let pageCount: Int
    private let base: UnsafeRawPointer?
    private let mappedLength: Int
    private let tail: UnsafeMutableRawPointer?
    private let fullPages: Int

    struct OpenError: Error, CustomStringConvertible {
        var description: String
    }

    init(path: String) throws {
        name = path
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw OpenError(description: "\(path): cannot read the image: \(String(cString: strerror(errno)))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw OpenError(description: "\(path): is a directory, not a memory image") }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw OpenError(description: "\(path): not a regular file (pipes and devices cannot be mapped; copy it to a file first)")
        }
        guard st.st_size > 0 else { throw OpenError(description: "\(path): is empty (0 bytes): a memory image holds at least one page") }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw OpenError(description: "\(path): cannot read the image: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var magic = [UInt8](repeating: 0, count: 4)
        if read(fd, &magic, 4) == 4 && magic == [0x7F, 0x45, 0x4C, 0x46] {
            throw OpenError(description: "\(path): is an ELF file (a QEMU dump-guest-memory/virsh dump core or a gcore dump?), not a raw image: take a raw dump (QEMU pmemsave, a copy of the memory backing file) or extract its PT_LOAD segments first (docs/howto-analyze-images.md)")
        }
        byteCount = Int(st.st_size)
        pageCount = (byteCount + pageSize - 1) / pageSize
        fullPages = byteCount / pageSize
        mappedLength = byteCount
        guard let m = mmap(nil, byteCount, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            throw OpenError(description: "\(path): cannot map the image: \(String(cString: strerror(errno)))")
        }
        _ = madvise(m, byteCount, MADV_SEQUENTIAL)
        base = UnsafeRawPointer(m)
        let rest = byteCount - fullPages * pageSize
        if rest > 0 {
            let t = UnsafeMutableRawPointer.allocate(byteCount: pageSize, alignment: 16)
            t.initializeMemory(as: UInt8.self, repeating: 0, count: pageSize)
            t.copyMemory(from: UnsafeRawPointer(m) + fullPages * pageSize, byteCount: rest)
            tail = t
        } else {
            tail = nil
        }
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), mappedLength) }
        tail?.deallocate()
    }

    func withPage<R>(_ i: Int, _ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
        precondition(i >= 0 && i < pageCount, "page \(i) is outside image '\(name)' of \(pageCount) pages")
        if i == fullPages, let tail { return try body(UnsafeRawPointer(tail)) }
        return try body(base! + i * pageSize)
    }
}
