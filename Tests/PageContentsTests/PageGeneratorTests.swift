import OvercommitSupport
import Testing
@testable import PageContents

/// Styles whose bytes come from the seed alone (every style but `stored`).
let generatedStyles = ContentStyle.allCases.filter { $0 != .stored }

func words(_ bytes: [UInt8]) -> [UInt64] {
    bytes.withUnsafeBytes { b in (0..<(pageSize / 8)).map { b.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) } }
}

@Suite struct PageGeneratorTests {
    let g = PageGenerator()

    @Test(arguments: generatedStyles)
    func sameDescriptorSameBytes(_ style: ContentStyle) {
        for seed: UInt64 in [0, 1, 0xdead_beef, PageContent.seedMask] {
            let c = PageContent(style: style, seed: seed)
            let a = g.bytes(c)
            #expect(a.count == pageSize)
            #expect(a == g.bytes(c))
            #expect(a == PageGenerator().bytes(c), "a second generator gives the same bytes")
            // fill into an unaligned destination and withBytes agree with bytes.
            var buf = [UInt8](repeating: 0xAA, count: pageSize + 3)
            buf.withUnsafeMutableBytes { g.fill(c, into: $0.baseAddress! + 3) }
            #expect(buf[0..<3] == [0xAA, 0xAA, 0xAA], "nothing written before the page")
            #expect(Array(buf[3...]) == a)
            #expect(g.withBytes(c) { PageHash.xxh3($0) } == a.withUnsafeBytes { PageHash.xxh3($0.baseAddress!) })
        }
    }

    @Test(arguments: generatedStyles.filter { $0 != .zero })
    func differentSeedsGiveDifferentBytes(_ style: ContentStyle) {
        var hashes: [UInt64] = []
        for seed in 0..<200 as Range<UInt64> {
            hashes.append(g.withBytes(PageContent(style: style, seed: seed)) { PageHash.xxh3($0) })
        }
        hashes.sort()
        var distinct = 1
        for i in 1..<hashes.count where hashes[i] != hashes[i - 1] { distinct += 1 }
        #expect(distinct == 200)
        #expect(!g.bytes(PageContent(style: style, seed: 7)).allSatisfy { $0 == 0 })
    }

    @Test func stylesDifferForTheSameSeed() {
        let hashes = generatedStyles.map { g.withBytes(PageContent(style: $0, seed: 12345)) { PageHash.xxh3($0) } }
        #expect(Set(hashes).count == generatedStyles.count)
    }

    @Test func zeroIsAllZeroForAnySeed() {
        for seed: UInt64 in [0, 1, 99] {
            #expect(g.bytes(PageContent(style: .zero, seed: seed)).allSatisfy { $0 == 0 })
        }
        #expect(g.bytes(.zero) == [UInt8](repeating: 0, count: pageSize))
    }

    @Test func patternRepeatsOneWord() {
        let w = words(g.bytes(PageContent(style: .pattern, seed: 3)))
        #expect(Set(w).count == 1)
        #expect(w[0] != 0)
        #expect(w[0] != words(g.bytes(PageContent(style: .pattern, seed: 4)))[0])
    }

    @Test func sparseHasAHandfulOfNonZeroWords() {
        var counts: [Int] = []
        for seed in 0..<300 as Range<UInt64> {
            counts.append(words(g.bytes(PageContent(style: .sparse, seed: seed))).filter { $0 != 0 }.count)
        }
        #expect(counts.allSatisfy { (8...40).contains($0) })
        #expect(counts.min()! <= 10 && counts.max()! >= 38, "the count spreads over the whole band")
    }

    @Test func textIsPrintableLinesOfWords() {
        for seed in 0..<50 as Range<UInt64> {
            let b = g.bytes(PageContent(style: .text, seed: seed))
            #expect(b.allSatisfy { $0 == 0x0a || (0x20...0x7e).contains($0) })
            let letters = b.filter { (0x61...0x7a).contains($0) || (0x41...0x5a).contains($0) }.count
            let spaces = b.filter { $0 == 0x20 }.count
            let lines = b.filter { $0 == 0x0a }.count
            #expect(letters > 2800, "mostly letters: \(letters)")
            #expect(spaces > 400 && lines > 30, "spaces \(spaces), lines \(lines)")
        }
    }

    @Test func codeLooksLikeX86() {
        let b = g.bytes(PageContent(style: .code, seed: 11))
        var histogram = [Int](repeating: 0, count: 256)
        for x in b { histogram[Int(x)] += 1 }
        // REX.W prefixes and ModRM/opcode bytes of mov dominate compiled x86-64 code.
        #expect(histogram[0x48] > 200)
        #expect(histogram[0x8b] + histogram[0x89] > 100)
        #expect(histogram[0xe8] > 10, "calls")
        // Not text: plenty of bytes outside printable ASCII.
        #expect(b.filter { $0 < 0x20 || $0 > 0x7e }.count > 1000)
    }

    @Test func pointersLookLikeHeapPointersAndSmallIntegers() {
        var smallTotal = 0
        for seed in 0..<50 as Range<UInt64> {
            let w = words(g.bytes(PageContent(style: .pointers, seed: seed)))
            let heap = w.filter { $0 >> 40 == 0x7f }
            let types = w.filter { $0 >> 40 == 0x55 }
            let small = w.filter { $0 < 0x1000 }
            #expect(heap.count + types.count + small.count == 512, "every word is a pointer or a small integer")
            #expect(heap.count >= 512 / 8, "at least one heap pointer per record: \(heap.count)")
            #expect(types.count >= 512 / 8, "a type pointer heads every record: \(types.count)")
            #expect(Set(types).count <= 2)
            smallTotal += small.count
            #expect(heap.allSatisfy { $0 & 0xf == 0 }, "16-byte aligned")
            #expect(heap.max()! - heap.min()! < 1 << 20, "within one 1 MiB window")
            #expect(w.allSatisfy { $0 >> 48 == 0 }, "48-bit user-space addresses")
        }
        #expect(smallTotal > 50 * 512 / 5, "small integers and NULLs are common: \(smallTotal)")
    }

    @Test func randomLooksUniform() {
        let b = g.bytes(PageContent(style: .random, seed: 5))
        var histogram = [Int](repeating: 0, count: 256)
        for x in b { histogram[Int(x)] += 1 }
        // 16 expected per value; a missing value or a pile of 60 means it is not uniform.
        #expect(histogram.allSatisfy { $0 > 0 && $0 < 60 })
    }

    @Test func storedPagesCopyTheImage() {
        var raw = [UInt8](repeating: 0, count: 2 * pageSize + 100)
        for i in raw.indices { raw[i] = UInt8(truncatingIfNeeded: i * 7 + 1) }
        let other = MemoryImage(name: "other", bytes: [UInt8](repeating: 9, count: pageSize))
        let gen = PageGenerator(images: [other, MemoryImage(name: "dump", bytes: raw)])
        #expect(gen.bytes(.stored(image: 1, page: 0)) == Array(raw[0..<pageSize]))
        #expect(gen.bytes(.stored(image: 1, page: 1)) == Array(raw[pageSize..<(2 * pageSize)]))
        let last = gen.bytes(.stored(image: 1, page: 2))
        #expect(Array(last[0..<100]) == Array(raw[(2 * pageSize)...]))
        #expect(last[100...].allSatisfy { $0 == 0 }, "the partial last page is zero-padded")
        #expect(gen.bytes(.stored(image: 0, page: 0)) == [UInt8](repeating: 9, count: pageSize))
    }

    @Test func storedPagePastTheEndIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) {
            let gen = PageGenerator(images: [MemoryImage(name: "one", bytes: [1, 2, 3])])
            _ = gen.bytes(.stored(image: 0, page: 1))
        }
        await #expect(processExitsWith: .failure) {
            let gen = PageGenerator(images: [MemoryImage(name: "one", bytes: [1, 2, 3])])
            _ = gen.bytes(.stored(image: 1, page: 0))
        }
    }
}

@Suite struct PageHashMemoTests {
    @Test func itAnswersWhatItWasToldPerContentAndSaltAndNothingElse() {
        let g = PageGenerator()
        let memo = PageHashMemo()
        let a = PageContent(style: .pointers, seed: 1), b = PageContent(style: .text, seed: 2)
        #expect(memo.lookup(a, salt: 0) == nil, "empty before reserve")
        memo.reserve(pages: 100)
        #expect(memo.capacity == PageHashMemo.minSlots)
        let ha = g.withBytes(a) { PageHash.xxh3($0, salt: 7) }
        memo.store(a, salt: 7, hash: ha)
        #expect(memo.lookup(a, salt: 7) == ha)
        #expect(memo.lookup(a, salt: 8) == nil, "another salt is another hash")
        #expect(memo.lookup(b, salt: 7) == nil)
        memo.reserve(pages: 10)
        #expect(memo.lookup(a, salt: 7) == ha, "a memo large enough keeps its entries")
        memo.reserve(pages: PageHashMemo.maxSlots * 4)
        #expect(memo.capacity == PageHashMemo.maxSlots)
        #expect(memo.lookup(a, salt: 7) == ha, "growing keeps the entries")
        #expect(memo.lookupShared(a, salt: 7) == nil, "no shared memo")
    }

    @Test func aSharedMemoAnswersAnotherRunButNeverForStoredImagePages() {
        let g = PageGenerator()
        let shared = SharedContentMemo()
        let first = PageHashMemo(), second = PageHashMemo()
        for m in [first, second] {
            m.shared = shared
            m.reserve(pages: 100)
        }
        shared.reserve(pages: 100)
        let a = PageContent(style: .code, seed: 3)
        let stored = PageContent.stored(image: 0, page: 1)
        let ha = g.withBytes(a) { PageHash.xxh3($0, salt: 5) }
        first.store(a, salt: 5, hash: ha)
        first.publish([(a, 5, ha), (stored, 5, 0x1234)])
        #expect(second.lookup(a, salt: 5) == nil, "the other run's own memo does not know it")
        #expect(second.lookupShared(a, salt: 5) == ha)
        #expect(second.lookupShared(a, salt: 6) == nil, "another salt is another hash")
        #expect(second.lookupShared(stored, salt: 5) == nil, "a stored image page depends on the run's images")
        #expect(shared.counts.hits == 1)
    }

    /// The batch lookup answers what one lookup per content answers, and adopting a batch
    /// brings into a run's memo exactly the hashes the shared memo knows.
    @Test func aBatchFromTheSharedMemoAnswersAsSingleLookupsDo() {
        let shared = SharedContentMemo()
        shared.reserve(pages: 1 << 12)
        var rng = Xoshiro256(seed: 9)
        let contents = (0..<300).map { _ in PageContent(style: .pointers, seed: rng.next() >> 8) } + [PageContent.stored(image: 0, page: 4)]
        let known = contents.enumerated().filter { $0.offset % 3 == 0 }.map { ($0.element, UInt64(5), rng.next() | 1) }
        shared.storeHashes(known)
        let batch = shared.hashes(of: contents, salt: 5)
        #expect(batch == contents.map { shared.hash(of: $0, salt: 5) ?? 0 })
        // Every stored hash but the image page's, less the few a slot collision replaced.
        #expect((known.count - 6...known.count - 1).contains(batch.filter { $0 != 0 }.count))
        #expect(shared.hashes(of: contents, salt: 6).allSatisfy { $0 == 0 }, "another salt")
        let memo = PageHashMemo()
        memo.shared = shared
        memo.reserve(pages: 1 << 12)
        memo.adoptShared(contents, salt: 5)
        #expect(contents.map { memo.lookup($0, salt: 5) ?? 0 } == batch)
    }
}

@Suite struct ContentMemoTableTests {
    /// The table against a dictionary model: every answer it gives is the last value stored
    /// for that key, and a key stored last into its slot is always answered; growing loses
    /// nothing that a larger table has room for. Pinned seeds; a failure names the seed.
    @Test(arguments: [1, 2, 3] as [UInt64]) func itNeverAnswersAValueThatWasNotStoredForTheKey(seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        let table = ContentMemoTable(maxSlots: 1 << 14)
        table.reserve(entries: 0)
        var model: [UInt64: UInt64] = [:]
        func key(_ raw: UInt64, _ tag: UInt64) -> UInt64 { raw &* 31 &+ tag }
        for step in 0..<60_000 {
            let raw = rng.next(below: 20_000), tag = rng.next(below: 3)
            if step == 30_000 { table.reserve(entries: 1 << 14) }
            if rng.next(below: 2) == 0 {
                let v = rng.next() | 1
                table.store(raw, tag: tag, value: v)
                model[key(raw, tag)] = v
            } else if let v = table.lookup(raw, tag: tag) {
                #expect(model[key(raw, tag)] == v, "seed \(seed), step \(step): answered \(v) for (\(raw), \(tag))")
            }
        }
        table.store(77, tag: 1, value: 9)
        #expect(table.lookup(77, tag: 1) == 9, "seed \(seed)")
        table.store(78, tag: 1, value: 0)
        #expect(table.lookup(78, tag: 1) == nil, "seed \(seed): 0 is never stored")
    }

    /// A store marks exactly the pages its slot's 24 bytes lie in, so that lookups elsewhere
    /// never read (and map) a page nothing was stored to.
    @Test func aStoreMarksThePagesOfItsSlotOnly() {
        var rng = Xoshiro256(seed: 6)
        let table = ContentMemoTable(maxSlots: 1 << 16)
        table.reserve(entries: 1 << 16)
        var expected = Set<Int>()
        for n in 0..<40 {
            let raw = rng.next(), tag = rng.next(below: 4)
            table.store(raw, tag: tag, value: 1)
            let start = table.slot(raw, tag) * ContentMemoTable.bytesPerSlot
            expected.formUnion([start >> 12, (start + ContentMemoTable.bytesPerSlot - 1) >> 12])
            #expect(table.pagesStoredTo() == expected.sorted(), "after \(n + 1) stores")
        }
    }

    /// Growing keeps every entry the smaller table answered: a slot is the top bits of the
    /// key's hash, so entries in distinct slots stay in distinct slots. The entries are
    /// copied from the pages stored to only, which this would catch if it missed a slot
    /// (straddling two pages, or at a page's end).
    @Test(arguments: [4, 5] as [UInt64]) func growingKeepsWhatTheTableAnswered(seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        let table = ContentMemoTable(maxSlots: 1 << 16)
        table.reserve(entries: 0)
        var stored: [(raw: UInt64, tag: UInt64, value: UInt64)] = []
        for _ in 0..<3_000 {
            let e = (raw: rng.next(), tag: rng.next(below: 4), value: rng.next() | 1)
            table.store(e.raw, tag: e.tag, value: e.value)
            stored.append(e)
        }
        let answered = stored.filter { table.lookup($0.raw, tag: $0.tag) == $0.value }
        #expect(answered.count > 1_000, "seed \(seed): the 4096-slot table keeps most of 3000 entries")
        for size in [1 << 13, 1 << 16] {
            table.reserve(entries: size)
            for e in answered {
                #expect(table.lookup(e.raw, tag: e.tag) == e.value, "seed \(seed): (\(e.raw), \(e.tag)) lost growing to \(size) slots")
            }
        }
    }
}
