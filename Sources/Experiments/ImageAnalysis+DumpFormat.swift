import PageContents

/// How a memory dump file is laid out: raw pages, or an ELF core whose `PT_LOAD` segments
/// hold the memory (QEMU `dump-guest-memory` in its default format, `virsh dump
/// --memory-only`, kdump's /proc/vmcore, gcore). No I/O: the caller passes a reader.
public struct ImageLayout: Equatable, Sendable {
    public enum Format: String, Sendable {
        /// Consecutive 4 KiB pages from offset 0.
        case raw
        /// An ELF core (`e_type` ET_CORE): the bytes of its PT_LOAD segments.
        case elfCore = "elf-core"
    }

    /// One range of memory in the file: `byteCount` bytes at `fileOffset`, which the dumped
    /// system had at guest-physical address `physicalAddress` (`p_paddr`; QEMU and kdump fill
    /// it) and virtual address `virtualAddress` (`p_vaddr`; gcore, or QEMU with paging).
    public struct Segment: Equatable, Sendable {
        public var fileOffset: UInt64
        public var byteCount: UInt64
        public var physicalAddress: UInt64
        public var virtualAddress: UInt64
        /// 4 KiB pages, the last one zero-padded.
        public var pages: Int { Int((byteCount + UInt64(pageSize) - 1) / UInt64(pageSize)) }
    }

    public var format: Format
    /// The memory, in file order; every segment starts a new page.
    public var segments: [Segment]
    /// Program headers that hold no memory: PT_LOAD segments with no bytes in the file (a
    /// filtered or unreadable range), PT_NOTE (registers, vmcoreinfo) and any other type.
    public var skippedHeaders: Int

    /// Pages of all segments.
    public var pageCount: Int { segments.reduce(0) { $0 + $1.pages } }
    /// Bytes of memory in the file.
    public var byteCount: Int { Int(segments.reduce(0) { $0 + $1.byteCount }) }

    /// A whole file read as raw pages.
    public static func raw(fileSize: UInt64) -> ImageLayout {
        ImageLayout(
            format: .raw, segments: [Segment(fileOffset: 0, byteCount: fileSize, physicalAddress: 0, virtualAddress: 0)],
            skippedHeaders: 0)
    }

    /// Why a file cannot be analysed as memory, naming the file and what to do.
    public struct FormatError: Error, CustomStringConvertible, Equatable {
        public var message: String
        public var description: String { message }
    }

    static let elfMagic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]
    static let etCore = 4
    static let ptLoad: UInt32 = 1
    static let pnXnum = 0xFFFF

    /// The layout of the file at `path` of `fileSize` bytes. `read(offset, count)` returns the
    /// file's bytes there (fewer at its end). Only an ELF file whose `e_type` is ET_CORE is a
    /// core: any other first bytes, an ELF executable or library at the start of a RAM dump
    /// included, are raw memory. kdump-compressed and Windows crash dumps are refused with
    /// how to get a dump `analyze` reads. `forceRaw` reads every file as raw pages.
    public static func detect(
        path: String, fileSize: UInt64, forceRaw: Bool = false,
        read: (UInt64, Int) -> [UInt8]
    ) throws -> ImageLayout {
        if forceRaw { return .raw(fileSize: fileSize) }
        let head = read(0, 64)
        func starts(_ s: String) -> Bool { head.count >= s.utf8.count && Array(head.prefix(s.utf8.count)) == Array(s.utf8) }
        if starts("KDUMP   ") || starts("DISKDUMP") || starts("makedumpfile") {
            throw FormatError(
                message: """
                    \(path): is a kdump-compressed dump (virsh dump --format kdump-zlib/kdump-lzo/kdump-snappy, QEMU \
                    dump-guest-memory -z/-l/-s, or makedumpfile), not memory analyze can read: its pages are compressed \
                    one by one and zero or page-cache pages may have been left out. Only the crash utility reads it. \
                    Dump the guest again as an ELF core, which analyze reads (`virsh dump --memory-only --format elf DOMAIN \
                    FILE`, the default format, or QEMU `dump-guest-memory FILE` without -z/-l/-s), or as raw memory \
                    (QEMU pmemsave, a copy of the memory backing file); see docs/howto-analyze-images.md. To read these \
                    bytes as raw pages anyway, pass --raw.
                    """)
        }
        if starts("PAGEDU64") || starts("PAGEDUMP") {
            throw FormatError(
                message: """
                    \(path): is a Windows crash dump (virsh dump --format win-dmp, QEMU dump-guest-memory -w), not memory \
                    analyze can read. Dump the guest as an ELF core (`virsh dump --memory-only --format elf DOMAIN FILE`) or \
                    as raw memory (docs/howto-analyze-images.md); pass --raw to read these bytes as raw pages anyway.
                    """)
        }
        guard head.count >= 20, Array(head.prefix(4)) == elfMagic else { return .raw(fileSize: fileSize) }
        let elfClass = head[4], data = head[5]
        guard (elfClass == 1 || elfClass == 2) && (data == 1 || data == 2) else { return .raw(fileSize: fileSize) }
        let little = data == 1
        func u(_ b: [UInt8], _ at: Int, _ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(b[at + (little ? i : n - 1 - i)]) << (8 * UInt64(i)) }
            return v
        }
        guard Int(u(head, 16, 2)) == etCore else { return .raw(fileSize: fileSize) }
        let is64 = elfClass == 2
        func bad(_ what: String) -> FormatError {
            FormatError(
                message: "\(path): is an ELF core (e_type ET_CORE) but \(what); it may be truncated or damaged (pass --raw to read its bytes as raw pages)")
        }
        guard head.count >= (is64 ? 64 : 52) else { throw bad("its ELF header is cut short") }
        let phoff = is64 ? u(head, 32, 8) : u(head, 28, 4)
        let shoff = is64 ? u(head, 40, 8) : u(head, 32, 4)
        let phentsize = Int(u(head, is64 ? 54 : 42, 2))
        var phnum = Int(u(head, is64 ? 56 : 44, 2))
        let wantEntry = is64 ? 56 : 32
        guard phentsize >= wantEntry else { throw bad("its program headers are \(phentsize) bytes, not \(wantEntry)") }
        if phnum == pnXnum {
            // More than 65534 segments (QEMU with many RAM blocks): the count is in section 0's sh_info.
            let sh = read(shoff, is64 ? 64 : 40)
            guard sh.count >= (is64 ? 48 : 32) else { throw bad("its section header 0, which holds the segment count (PN_XNUM), is missing") }
            phnum = Int(u(sh, is64 ? 44 : 28, 4))
        }
        guard phnum > 0 else { throw bad("it has no program headers") }
        let tableBytes = UInt64(phnum) * UInt64(phentsize)
        guard phoff < fileSize, tableBytes <= fileSize - phoff else {
            throw bad("its \(phnum) program headers at offset \(phoff) go past the end of the file (\(fileSize) bytes)")
        }
        var segments: [Segment] = []
        var skipped = 0
        var index = 0
        while index < phnum {
            // Read the table in blocks of up to 4096 headers.
            let n = min(4096, phnum - index)
            let table = read(phoff + UInt64(index * phentsize), n * phentsize)
            guard table.count == n * phentsize else { throw bad("its program headers are cut short") }
            for k in 0..<n {
                let b = k * phentsize
                let type = UInt32(u(table, b, 4))
                let offset = is64 ? u(table, b + 8, 8) : u(table, b + 4, 4)
                let vaddr = is64 ? u(table, b + 16, 8) : u(table, b + 8, 4)
                let paddr = is64 ? u(table, b + 24, 8) : u(table, b + 12, 4)
                let filesz = is64 ? u(table, b + 32, 8) : u(table, b + 16, 4)
                guard type == ptLoad, filesz > 0 else { skipped += 1; continue }
                guard offset <= fileSize, filesz <= fileSize - offset else {
                    throw bad(
                        "its PT_LOAD segment \(index + k) (\(filesz) bytes at offset \(offset), guest-physical 0x\(String(paddr, radix: 16))) goes past the end of the file (\(fileSize) bytes)"
                    )
                }
                segments.append(Segment(fileOffset: offset, byteCount: filesz, physicalAddress: paddr, virtualAddress: vaddr))
            }
            index += n
        }
        guard !segments.isEmpty else { throw bad("none of its \(phnum) program headers is a PT_LOAD segment with bytes in the file: it holds no memory") }
        return ImageLayout(format: .elfCore, segments: segments, skippedHeaders: skipped)
    }

    /// The segment holding page `i` of the image and the page's index inside it.
    public func locate(page i: Int, starts: [Int]) -> (segment: Int, page: Int) {
        var lo = 0, hi = starts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if starts[mid] <= i { lo = mid + 1 } else { hi = mid }
        }
        return (lo - 1, i - starts[lo - 1])
    }

    /// First image page of every segment.
    public var segmentStarts: [Int] {
        var out: [Int] = []
        var p = 0
        for s in segments { out.append(p); p += s.pages }
        return out
    }

    /// Whether the segments' addresses are guest-physical (`p_paddr`: QEMU, virsh dump,
    /// kdump) or virtual (a process core, gcore: every `p_paddr` is 0).
    public var addressSpace: String {
        segments.allSatisfy({ $0.physicalAddress == 0 }) && segments.contains(where: { $0.virtualAddress != 0 }) ? "virtual" : "guest-physical"
    }

    /// The address ranges of the segments (in `addressSpace`), sorted and merged where
    /// adjacent, as "0x0-0x9ffff" strings.
    public var addressRanges: [String] {
        let virtual = addressSpace == "virtual"
        var merged: [(UInt64, UInt64)] = []
        let starts = segments.map { (virtual ? $0.virtualAddress : $0.physicalAddress, $0.byteCount) }.sorted { $0.0 < $1.0 }
        for (a, n) in starts {
            let end = a &+ n
            if let last = merged.last, last.1 == a { merged[merged.count - 1].1 = end } else { merged.append((a, end)) }
        }
        return merged.map { "0x\(String($0.0, radix: 16))-0x\(String($0.1 &- 1, radix: 16))" }
    }
}
