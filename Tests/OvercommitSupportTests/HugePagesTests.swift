import Foundation
import Testing
@testable import OvercommitSupport

/// The simulator's own hot arrays on 2 MiB pages: the advice reaches the kernel for the
/// aligned part of a buffer, and the buffer still reads as zeros and keeps what is written.
@Suite struct HugePagesTests {
    /// The `VmFlags` line of the mapping of this process that contains `address`, from
    /// /proc/self/smaps (nil where there is no such file or mapping).
    static func vmFlags(containing address: UInt) -> [Substring]? {
        // Read line by line: /proc files report a size of 0, so whole-file reads get nothing.
        guard let file = fopen("/proc/self/smaps", "r") else { return nil }
        defer { fclose(file) }
        var lines: [String] = []
        var buffer: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(buffer) }
        while getline(&buffer, &capacity, file) > 0, let b = buffer { lines.append(String(cString: b)) }
        var inside = false
        for whole in lines {
            let line = whole.dropLast(whole.hasSuffix("\n") ? 1 : 0)
            if let dash = line.firstIndex(of: "-"), let space = line.firstIndex(of: " "), dash < space,
                let lo = UInt(line[..<dash], radix: 16), let hi = UInt(line[line.index(after: dash)..<space], radix: 16)
            {
                inside = lo <= address && address < hi
            } else if inside && line.hasPrefix("VmFlags:") {
                return line.dropFirst("VmFlags:".count).split(separator: " ")
            }
        }
        return nil
    }

    @Test func aHugePageBufferIsAdvisedAndStillZeroed() throws {
        let count = 3 << 20  // 24 MiB of UInt64: a fresh mapping with whole huge pages inside
        let b = ZeroedBuffer<UInt64>(count: count, hugePages: true)
        #expect(b[0] == 0 && b[count / 2] == 0 && b[count - 1] == 0)
        b[count / 2] = 42
        #expect(b[count / 2] == 42 && b[count / 2 + 1] == 0)
        #if os(Linux)
        let middle = UInt(bitPattern: b.base + count / 2)
        let flags = try #require(HugePagesTests.vmFlags(containing: middle), "no mapping holds the buffer in /proc/self/smaps")
        #expect(flags.contains("hg"), "VmFlags \(flags) lack hg (MADV_HUGEPAGE)")
        // 40 MiB: above the C library's largest mmap threshold (32 MiB), so a fresh mapping; a
        // smaller buffer can reuse freed heap memory that an earlier advised buffer left flagged.
        let plainCount = 5 << 20
        let plain = ZeroedBuffer<UInt64>(count: plainCount)
        let plainFlags = try #require(HugePagesTests.vmFlags(containing: UInt(bitPattern: plain.base + plainCount / 2)))
        #expect(!plainFlags.contains("hg"), "a buffer not asked for huge pages was advised: \(plainFlags)")
        #endif
    }

    @Test func onlyTheWholeHugePagesInsideARegionAreAdvised() {
        let h = UInt(HugePages.size)
        // Aligned and whole: all of it.
        #expect(HugePages.alignedRange(4 * h, bytes: 3 * Int(h)) == (4 * h)..<(7 * h))
        // Unaligned at both ends: the pages strictly inside.
        #expect(HugePages.alignedRange(4 * h + 16, bytes: 3 * Int(h)) == (5 * h)..<(7 * h))
        // Under one huge page, or straddling a boundary without holding a whole page: none.
        #expect(HugePages.alignedRange(4 * h + 1, bytes: Int(h) - 2) == nil)
        #expect(HugePages.alignedRange(4 * h + h / 2, bytes: Int(h)) == nil)
        #expect(HugePages.alignedRange(4 * h, bytes: 0) == nil)
        #expect(HugePages.roundUp(0) == 0 && HugePages.roundUp(1) == Int(h) && HugePages.roundUp(Int(h)) == Int(h))
    }

    /// A growing table's region: aligned, zeroed, on 4 KiB pages until advised, and when it
    /// outgrows its reservation it moves with its bytes and its advice.
    @Test func aRegionKeepsItsBytesAndItsAdviceWhenItMoves() throws {
        let h = HugePages.size
        let r = HugePageRegion(reserving: 4 * h - 100)
        #expect(r.reserved == 4 * h)
        #expect(UInt(bitPattern: r.base) % UInt(h) == 0)
        var words = r.base.bindMemory(to: UInt64.self, capacity: r.reserved / 8)
        #expect(words[0] == 0 && words[r.reserved / 8 - 1] == 0)
        for i in 0..<1000 { words[i] = UInt64(i) &* 0x9E37_79B9 | 1 }
        #expect(r.hugeFrom == nil && r.residentBytes(used: 8000) == 8192)
        r.adviseHugePages(from: h / 2)
        #expect(r.hugeFrom == h)
        #expect(r.residentBytes(used: h - 1) == h)  // the part before stays on 4 KiB pages
        #expect(r.residentBytes(used: h + 1) == 2 * h)  // a written huge page is whole
        r.adviseHugePages(from: 3 * h)  // once only
        #expect(r.hugeFrom == h)
        r.reserve(3 * h, preserving: 8000)  // fits: no move
        #expect(r.reserved == 4 * h)
        let before = r.base
        r.reserve(5 * h, preserving: 8000)
        #expect(r.reserved == 8 * h && r.base != before && UInt(bitPattern: r.base) % UInt(h) == 0)
        words = r.base.bindMemory(to: UInt64.self, capacity: r.reserved / 8)
        #expect((0..<1000).allSatisfy { words[$0] == UInt64($0) &* 0x9E37_79B9 | 1 })
        #expect(words[1000] == 0 && words[r.reserved / 8 - 1] == 0)
        #if os(Linux)
        let flags = try #require(HugePagesTests.vmFlags(containing: UInt(bitPattern: r.base + 3 * h)))
        #expect(flags.contains("hg"), "the moved region lost its advice: \(flags)")
        let head = try #require(HugePagesTests.vmFlags(containing: UInt(bitPattern: r.base)))
        #expect(!head.contains("hg"), "the part before hugeFrom was advised: \(head)")
        #endif
    }
}
