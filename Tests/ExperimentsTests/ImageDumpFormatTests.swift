import Foundation
import Testing
@testable import Experiments
import PageContents

/// A small ELF core as QEMU's dump-guest-memory writes one: ELF header, program headers
/// (a PT_NOTE, then one PT_LOAD per RAM range), the note, then each range's bytes.
func elfCore(
    _ ranges: [(paddr: UInt64, bytes: [UInt8])], is64: Bool = true, little: Bool = true,
    emptyLoad: Bool = true, xnum: Bool = false
) -> [UInt8] {
    func put(_ v: UInt64, _ n: Int, into b: inout [UInt8], at: Int) {
        for i in 0..<n { b[at + (little ? i : n - 1 - i)] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
    }
    let ehsize = is64 ? 64 : 52, phentsize = is64 ? 56 : 32, shentsize = is64 ? 64 : 40
    let phnum = 1 + ranges.count + (emptyLoad ? 1 : 0)
    let phoff = ehsize
    let shoff = phoff + phnum * phentsize
    var dataOff = (shoff + shentsize + 4095) / 4096 * 4096
    var out = [UInt8](repeating: 0, count: dataOff)
    out[0] = 0x7F; out[1] = 0x45; out[2] = 0x4C; out[3] = 0x46
    out[4] = is64 ? 2 : 1; out[5] = little ? 1 : 2; out[6] = 1
    put(4, 2, into: &out, at: 16)  // e_type ET_CORE
    put(62, 2, into: &out, at: 18)  // e_machine x86-64
    put(1, 4, into: &out, at: 20)
    if is64 {
        put(UInt64(phoff), 8, into: &out, at: 32); put(UInt64(shoff), 8, into: &out, at: 40)
        put(UInt64(ehsize), 2, into: &out, at: 52); put(UInt64(phentsize), 2, into: &out, at: 54)
        put(xnum ? 0xFFFF : UInt64(phnum), 2, into: &out, at: 56); put(UInt64(shentsize), 2, into: &out, at: 58)
        put(1, 2, into: &out, at: 60)
        if xnum { put(UInt64(phnum), 4, into: &out, at: shoff + 44) }
    } else {
        put(UInt64(phoff), 4, into: &out, at: 28); put(UInt64(shoff), 4, into: &out, at: 32)
        put(UInt64(ehsize), 2, into: &out, at: 40); put(UInt64(phentsize), 2, into: &out, at: 42)
        put(xnum ? 0xFFFF : UInt64(phnum), 2, into: &out, at: 44); put(UInt64(shentsize), 2, into: &out, at: 46)
        put(1, 2, into: &out, at: 48)
        if xnum { put(UInt64(phnum), 4, into: &out, at: shoff + 28) }
    }
    func phdr(_ i: Int, type: UInt64, offset: UInt64, paddr: UInt64, filesz: UInt64, memsz: UInt64) {
        let b = phoff + i * phentsize
        if is64 {
            put(type, 4, into: &out, at: b); put(7, 4, into: &out, at: b + 4); put(offset, 8, into: &out, at: b + 8)
            put(paddr | 0xFFFF_8880_0000_0000, 8, into: &out, at: b + 16); put(paddr, 8, into: &out, at: b + 24)
            put(filesz, 8, into: &out, at: b + 32); put(memsz, 8, into: &out, at: b + 40)
        } else {
            put(type, 4, into: &out, at: b); put(offset, 4, into: &out, at: b + 4); put(paddr, 4, into: &out, at: b + 8)
            put(paddr, 4, into: &out, at: b + 12); put(filesz, 4, into: &out, at: b + 16); put(memsz, 4, into: &out, at: b + 20)
        }
    }
    let note = Array("CORE".utf8) + [UInt8](repeating: 0, count: 60)
    phdr(0, type: 4, offset: UInt64(dataOff), paddr: 0, filesz: UInt64(note.count), memsz: 0)
    out += note
    dataOff += note.count
    for (i, r) in ranges.enumerated() {
        phdr(1 + i, type: 1, offset: UInt64(dataOff), paddr: r.paddr, filesz: UInt64(r.bytes.count), memsz: UInt64(r.bytes.count))
        out += r.bytes
        dataOff += r.bytes.count
    }
    if emptyLoad { phdr(1 + ranges.count, type: 1, offset: UInt64(dataOff), paddr: 0xA0000, filesz: 0, memsz: 0x20000) }
    return out
}

/// An image in memory read through a layout, as the command line reads a file.
struct LaidOutImage: ImageAnalysisInput {
    let name: String
    let bytes: [UInt8]
    let layout: ImageLayout?
    var byteCount: Int { layout!.byteCount }
    var pageCount: Int { layout!.pageCount }

    init(name: String, bytes: [UInt8]) throws {
        self.name = name
        self.bytes = bytes
        layout = try ImageLayout.detect(path: name, fileSize: UInt64(bytes.count)) { offset, count in
            let s = min(Int(offset), bytes.count)
            return Array(bytes[s..<min(bytes.count, s + count)])
        }
    }

    func withPage<R>(_ i: Int, _ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
        let (si, pi) = layout!.locate(page: i, starts: layout!.segmentStarts)
        let seg = layout!.segments[si]
        var page = [UInt8](repeating: 0, count: pageSize)
        let start = Int(seg.fileOffset) + pi * pageSize
        let n = min(pageSize, Int(seg.byteCount) - pi * pageSize)
        page.replaceSubrange(0..<n, with: bytes[start..<start + n])
        return try page.withUnsafeBytes { try body($0.baseAddress!) }
    }
}

@Suite struct ImageDumpFormatTests {
    static func detect(_ bytes: [UInt8], raw: Bool = false) throws -> ImageLayout {
        try ImageLayout.detect(path: "f", fileSize: UInt64(bytes.count), forceRaw: raw) { offset, count in
            let s = min(Int(offset), bytes.count)
            return Array(bytes[s..<min(bytes.count, s + count)])
        }
    }

    static let low = imageBytes([.zero, text(1), code(2), text(1)])
    static let high = imageBytes([code(2), random(3)], extraBytes: Array(repeating: 0x42, count: 100))

    @Test func anELFCoreIsReadThroughItsLoadSegments() throws {
        for (is64, little) in [(true, true), (true, false), (false, true)] {
            let core = elfCore([(0, Self.low), (0x10_0000, Self.high)], is64: is64, little: little)
            let l = try Self.detect(core)
            #expect(l.format == .elfCore, "is64 \(is64) little \(little)")
            #expect(l.segments.count == 2 && l.skippedHeaders == 2)  // PT_NOTE and the empty PT_LOAD
            #expect(l.segments.map(\.byteCount) == [UInt64(Self.low.count), UInt64(Self.high.count)])
            #expect(l.pageCount == 4 + 3 && l.byteCount == Self.low.count + Self.high.count)
            #expect(l.addressSpace == "guest-physical" && l.addressRanges.first == "0x0-0x3fff")
        }
    }

    @Test func theCoresPagesAreAnalysedLikeTheRawRanges() throws {
        let core = try LaidOutImage(name: "vm.core", bytes: elfCore([(0, Self.low), (0x1_0000_0000, Self.high)]))
        // The same memory as a raw image: the two ranges, each padded to whole pages.
        let raw = MemoryImage(name: "vm.core", bytes: Self.low + Self.high)
        let a = ImageAnalysis.analyze([core]), b = ImageAnalysis.analyze([raw])
        #expect(a.pages == b.pages && a.zeroPages == b.zeroPages && a.distinctContents == b.distinctContents)
        #expect(a.unsalted == b.unsalted && a.salted == b.salted)
        #expect(a.codecs == b.codecs)
        let f = a.images[0]
        #expect(f.format == "elf-core" && f.segments == 2 && f.skippedHeaders == 2)
        #expect(f.addressSpace == "guest-physical" && f.ranges == ["0x0-0x3fff", "0x100000000-0x100002063"])
        #expect(a.textLines().contains { $0.contains("is an ELF core") && $0.contains("0x100000000-0x100002063") })
        let json = a.json().rendered(indent: 0)
        #expect(json.contains("\"format\":\"elf-core\"") || json.contains("\"format\": \"elf-core\""))
    }

    @Test func aProcessCoreReportsVirtualRanges() throws {
        // gcore: p_paddr 0, p_vaddr the mapping's address, segments at unaligned offsets.
        var core = elfCore([(0, Self.low), (0, Self.high)])
        // Rewrite the two PT_LOADs' p_vaddr (offset 16 of headers 1 and 2) to process addresses.
        for (i, vaddr) in [(1, UInt64(0x5600_0000_0000)), (2, UInt64(0x7F00_0000_0000))] {
            let at = 64 + i * 56 + 16
            for b in 0..<8 { core[at + b] = UInt8(truncatingIfNeeded: vaddr >> (8 * UInt64(b))) }
        }
        let l = try Self.detect(core)
        #expect(l.addressSpace == "virtual")
        #expect(l.addressRanges == ["0x560000000000-0x560000003fff", "0x7f0000000000-0x7f0000002063"])
    }

    @Test func moreThan65534SegmentsUsePNXnum() throws {
        let l = try Self.detect(elfCore([(0, Self.low), (0x10_0000, Self.high)], xnum: true))
        #expect(l.format == .elfCore && l.segments.count == 2)
    }

    @Test func rawImagesWhateverTheirFirstBytes() throws {
        // A RAM dump whose first page holds a shared library's ELF header (ET_DYN) is raw memory.
        var dyn = imageBytes([text(9), code(4)])
        dyn.replaceSubrange(0..<20, with: [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 62, 0])
        let l = try Self.detect(dyn)
        #expect(l.format == .raw && l.pageCount == 2 && l.segments == [.init(fileOffset: 0, byteCount: 8192, physicalAddress: 0, virtualAddress: 0)])
        // Anything else: raw. --raw reads even a core as raw bytes.
        #expect(try Self.detect([0x7F, 0x45, 0x4C]).format == .raw)
        #expect(try Self.detect(Self.low).format == .raw)
        let core = elfCore([(0, Self.low)])
        #expect(try Self.detect(core, raw: true) == .raw(fileSize: UInt64(core.count)))
    }

    @Test func kdumpAndWindowsDumpsAreRefusedWithHowToGetAReadableOne() {
        for (magic, words) in [
            ("KDUMP   ", ["kdump-compressed", "--format elf", "dump-guest-memory"]),
            ("makedumpfile", ["kdump-compressed"]), ("DISKDUMP", ["kdump-compressed"]),
            ("PAGEDU64", ["Windows crash dump", "--format elf"]),
        ] {
            let bytes = Array(magic.utf8) + [UInt8](repeating: 0, count: 8000)
            do {
                _ = try Self.detect(bytes)
                Issue.record("\(magic) accepted")
            } catch let e as ImageLayout.FormatError {
                for w in words { #expect(e.message.contains(w), "\(magic): \(e.message)") }
                #expect(e.message.hasPrefix("f: ") && e.message.contains("--raw"))
            } catch { Issue.record("\(error)") }
        }
    }

    @Test func aDamagedCoreIsRefusedNamingWhatIsWrong() {
        var core = elfCore([(0, Self.low)])
        let cut = Array(core.prefix(core.count - 100))  // the segment's bytes cut short
        #expect(throws: ImageLayout.FormatError.self) { try Self.detect(cut) }
        do { _ = try Self.detect(cut) } catch let e as ImageLayout.FormatError {
            #expect(e.message.contains("goes past the end of the file") && e.message.contains("truncated"))
        } catch {}
        core[56] = 0; core[57] = 0  // e_phnum 0
        #expect(throws: ImageLayout.FormatError.self) { try Self.detect(core) }
    }

    @Test func maxPageSharingTakesWhatKSMTakes() {
        var o = ImageAnalysisOptions()
        o.maxPageSharing = Int(Int32.max)
        #expect(o.validationProblems().isEmpty)
        o.maxPageSharing = 5_000_000
        #expect(o.validationProblems().isEmpty)
        o.maxPageSharing = Int(Int32.max) + 1
        #expect(o.validationProblems().first?.contains("between 2 and 2147483647") == true)
        o.maxPageSharing = 1
        #expect(!o.validationProblems().isEmpty)
    }
}
