import Testing
@testable import PageContents

/// LZ4-compressed size of one page.
func lz4Size(_ c: PageContent, _ g: PageGenerator = PageGenerator()) -> Int {
    g.withBytes(c) { LZ4Codec().compressedSize($0) }
}

@Suite struct CodecTests {
    let g = PageGenerator()
    let codec = LZ4Codec()

    @Test(arguments: generatedStyles)
    func roundTripGivesTheExactBytes(_ style: ContentStyle) {
        var out = [UInt8](repeating: 0, count: LZ4Codec.maxCompressedSize)
        var back = [UInt8](repeating: 0, count: pageSize)
        for seed in 0..<20 as Range<UInt64> {
            let page = g.bytes(PageContent(style: style, seed: seed &* 0x1234_5678_9abc))
            let n = page.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { codec.compress(src.baseAddress!, into: $0.baseAddress!, capacity: $0.count) }
            }
            #expect(n != nil)
            guard let n else { continue }
            #expect(n <= codec.worstCaseSize)
            let ok = out.withUnsafeBytes { src in
                back.withUnsafeMutableBytes { codec.decompress(src.baseAddress!, count: n, into: $0.baseAddress!) }
            }
            #expect(ok)
            #expect(back == page)
        }
    }

    /// zstd round-trips every style and packs text and code tighter than LZ4 (what zswap
    /// users trade its CPU cost for).
    @Test(arguments: generatedStyles)
    func zstdRoundTripsAndCompressesTighter(_ style: ContentStyle) {
        let z = ZstdCodec()
        var out = [UInt8](repeating: 0, count: z.worstCaseSize)
        var back = [UInt8](repeating: 0, count: pageSize)
        var zTotal = 0, lTotal = 0
        for seed in 0..<20 as Range<UInt64> {
            let page = g.bytes(PageContent(style: style, seed: seed &* 0x9E37_79B9))
            let n = page.withUnsafeBytes { src in out.withUnsafeMutableBytes { z.compress(src.baseAddress!, into: $0.baseAddress!, capacity: $0.count) } }
            #expect(n != nil)
            guard let n else { continue }
            let ok = out.withUnsafeBytes { src in back.withUnsafeMutableBytes { z.decompress(src.baseAddress!, count: n, into: $0.baseAddress!) } }
            #expect(ok && back == page)
            zTotal += n
            lTotal += page.withUnsafeBytes { codec.compressedSize($0.baseAddress!) }
        }
        if style == .text || style == .code || style == .pointers { #expect(zTotal < lTotal, "\(style): zstd \(zTotal) B vs lz4 \(lTotal) B") }
        // Too small a capacity fails instead of writing past it.
        let small = g.bytes(PageContent(style: .random, seed: 1)).withUnsafeBytes { src in
            out.withUnsafeMutableBytes { z.compress(src.baseAddress!, into: $0.baseAddress!, capacity: 2047) }
        }
        #expect(small == nil)
    }

    @Test func storedPagesRoundTrip() {
        var raw = [UInt8](repeating: 0, count: pageSize + 10)
        for i in raw.indices { raw[i] = UInt8(truncatingIfNeeded: (i * i) >> 3) }
        let gen = PageGenerator(images: [MemoryImage(name: "m", bytes: raw)])
        for p in 0..<2 {
            let page = gen.bytes(.stored(image: 0, page: p))
            var out = [UInt8](repeating: 0, count: LZ4Codec.maxCompressedSize)
            var back = [UInt8](repeating: 1, count: pageSize)
            let n = page.withUnsafeBytes { s in out.withUnsafeMutableBytes { codec.compress(s.baseAddress!, into: $0.baseAddress!, capacity: $0.count) } }!
            #expect(out.withUnsafeBytes { s in back.withUnsafeMutableBytes { codec.decompress(s.baseAddress!, count: n, into: $0.baseAddress!) } })
            #expect(back == page)
        }
    }

    /// The documented bands of `PageGenerator`, over 200 seeds per style.
    /// Measured (these 200 seeds): zero 26, pattern 33, sparse 100-499, text 1778-2192,
    /// code 2244-2784, pointers 1583-2274, random 4114 bytes (1000 seeds: sparse 89-499,
    /// text 1778-2272, code 2205-2826, pointers 1563-2305).
    @Test(arguments: [
        (ContentStyle.zero, 0...40),
        (.pattern, 0...40),
        (.sparse, 60...599),
        (.text, 1434...2662),  // 35...65 % of 4096
        (.code, 2048...3276),  // 50...80 %
        (.pointers, 1229...2457),  // 30...60 %
        (.random, 4096...4128),  // incompressible: LZ4 adds its framing
    ])
    func compressedSizeBands(_ style: ContentStyle, _ band: ClosedRange<Int>) {
        var sizes: [Int] = []
        for s in 0..<200 as Range<UInt64> {
            sizes.append(lz4Size(PageContent(style: style, seed: s &* 0x9E37_79B9 &+ 1), g))
        }
        let lo = sizes.min()!, hi = sizes.max()!
        #expect(band.contains(lo) && band.contains(hi), "\(style): LZ4 sizes \(lo)...\(hi) outside \(band)")
    }

    @Test func capacityLimitsTheOutput() {
        var out = [UInt8](repeating: 0, count: 2048)
        for seed in 0..<20 as Range<UInt64> {
            let random = g.bytes(PageContent(style: .random, seed: seed))
            let n = random.withUnsafeBytes { s in out.withUnsafeMutableBytes { codec.compress(s.baseAddress!, into: $0.baseAddress!, capacity: 2048) } }
            #expect(n == nil, "a random page never fits in 2 KiB (ESX's compression-cache limit)")
            let sparse = g.bytes(PageContent(style: .sparse, seed: seed))
            let m = sparse.withUnsafeBytes { s in out.withUnsafeMutableBytes { codec.compress(s.baseAddress!, into: $0.baseAddress!, capacity: 2048) } }
            #expect(m != nil && m! < 600)
        }
        // A capacity of 0 or too small for anything fails cleanly.
        let zero = g.bytes(.zero)
        #expect(zero.withUnsafeBytes { s in out.withUnsafeMutableBytes { codec.compress(s.baseAddress!, into: $0.baseAddress!, capacity: 0) } } == nil)
        #expect(zero.withUnsafeBytes { s in out.withUnsafeMutableBytes { codec.compress(s.baseAddress!, into: $0.baseAddress!, capacity: 5) } } == nil)
    }

    @Test func corruptOrTruncatedInputIsRejected() {
        let page = g.bytes(PageContent(style: .text, seed: 1))
        var out = [UInt8](repeating: 0, count: LZ4Codec.maxCompressedSize)
        let n = page.withUnsafeBytes { s in out.withUnsafeMutableBytes { codec.compress(s.baseAddress!, into: $0.baseAddress!, capacity: $0.count) } }!
        var back = [UInt8](repeating: 0, count: pageSize)
        #expect(!out.withUnsafeBytes { s in back.withUnsafeMutableBytes { codec.decompress(s.baseAddress!, count: n / 2, into: $0.baseAddress!) } })
        #expect(!out.withUnsafeBytes { s in back.withUnsafeMutableBytes { codec.decompress(s.baseAddress!, count: 0, into: $0.baseAddress!) } })
        // A block that decodes to fewer than 4096 bytes is not a page.
        let short: [UInt8] = [0x50, 0x61, 0x62, 0x63, 0x64, 0x65]  // 5 literals, no match
        #expect(!short.withUnsafeBytes { s in back.withUnsafeMutableBytes { codec.decompress(s.baseAddress!, count: s.count, into: $0.baseAddress!) } })
    }

    @Test func codecRegistry() {
        let names = CodecKind.allCases.map(\.rawValue)
        #expect(names.contains("lz4") && names.contains("zstd") && Set(names).count == names.count)
        for kind in CodecKind.allCases {
            let c = kind.make()
            #expect(c.name == kind.rawValue)
            #expect(!kind.summary.isEmpty && !kind.summary.contains("\n"))
            #expect(c.compressedSize(g.bytes(.zero)) < 100)
        }
        #expect(CodecKind(rawValue: "lz4") == .lz4)
        #expect(CodecKind(rawValue: "zstd") == .zstd)
        #expect(CodecKind(rawValue: "zlib") == nil)
        #expect(LZ4Codec.maxCompressedSize == 4096 + 4096 / 255 + 16)
    }

    // MARK: Hashing and comparing

    @Test func equalPagesHashEqualDifferentPagesDiffer() {
        for style in generatedStyles {
            let a = g.bytes(PageContent(style: style, seed: 77))
            let b = g.bytes(PageContent(style: style, seed: 77))
            let ha = a.withUnsafeBytes { PageHash.xxh3($0.baseAddress!) }
            #expect(ha == b.withUnsafeBytes { PageHash.xxh3($0.baseAddress!) })
            var c = a
            c[4095] ^= 1
            #expect(ha != c.withUnsafeBytes { PageHash.xxh3($0.baseAddress!) }, "one flipped bit changes the hash")
        }
    }

    @Test func saltedHashDiffersFromUnsalted() {
        let page = g.bytes(PageContent(style: .code, seed: 1))
        page.withUnsafeBytes { p in
            let plain = PageHash.xxh3(p.baseAddress!)
            let vm1 = PageHash.xxh3(p.baseAddress!, salt: 0x5a17_0001)
            let vm2 = PageHash.xxh3(p.baseAddress!, salt: 0x5a17_0002)
            #expect(vm1 != plain && vm2 != plain && vm1 != vm2)
            #expect(PageHash.xxh3(p.baseAddress!, salt: 0x5a17_0001) == vm1, "salted hashes are deterministic")
            #expect(PageHash.xxh3(p.baseAddress!, salt: 0) == plain, "salt 0 is XXH3's default seed")
        }
    }

    @Test func compareZeroAndSameFilled() {
        let zero = g.bytes(.zero)
        let text = g.bytes(PageContent(style: .text, seed: 2))
        var textCopy = text
        zero.withUnsafeBytes { z in
            text.withUnsafeBytes { t in
                textCopy.withUnsafeBytes { t2 in
                    #expect(PageCompare.equal(t.baseAddress!, t2.baseAddress!))
                    #expect(!PageCompare.equal(z.baseAddress!, t.baseAddress!))
                    #expect(PageCompare.isZero(z.baseAddress!))
                    #expect(!PageCompare.isZero(t.baseAddress!))
                    #expect(PageCompare.isSameFilled(z.baseAddress!) == 0)
                    #expect(PageCompare.isSameFilled(t.baseAddress!) == nil)
                }
            }
        }
        textCopy[4095] ^= 0x40
        #expect(!text.withUnsafeBytes { a in textCopy.withUnsafeBytes { PageCompare.equal(a.baseAddress!, $0.baseAddress!) } })

        // isZero and isSameFilled see a difference in any word, first, middle or last.
        for position in [0, 7, 2048, 4095] {
            var z = zero
            z[position] = 1
            #expect(!z.withUnsafeBytes { PageCompare.isZero($0.baseAddress!) })
            #expect(z.withUnsafeBytes { PageCompare.isSameFilled($0.baseAddress!) } == nil)
        }
        let pattern = g.bytes(PageContent(style: .pattern, seed: 9))
        let word = pattern.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(pattern.withUnsafeBytes { PageCompare.isSameFilled($0.baseAddress!) } == word)
        var broken = pattern
        broken[3000] ^= 0xff
        #expect(broken.withUnsafeBytes { PageCompare.isSameFilled($0.baseAddress!) } == nil)
    }

    // MARK: Memory images

    @Test func memoryImagePadsTheLastPage() {
        let bytes = (0..<5000).map { UInt8(truncatingIfNeeded: $0 % 251 + 1) }
        let img = MemoryImage(name: "vm.vmem", bytes: bytes)
        #expect(img.name == "vm.vmem")
        #expect(img.byteCount == 5000)
        #expect(img.pageCount == 2)
        img.withPage(0) { p in
            #expect((0..<pageSize).allSatisfy { p.load(fromByteOffset: $0, as: UInt8.self) == bytes[$0] })
        }
        img.withPage(1) { p in
            #expect((0..<904).allSatisfy { p.load(fromByteOffset: $0, as: UInt8.self) == bytes[pageSize + $0] })
            #expect((904..<pageSize).allSatisfy { p.load(fromByteOffset: $0, as: UInt8.self) == 0 })
        }
        #expect(MemoryImage(name: "empty", bytes: []).pageCount == 0)
        #expect(MemoryImage(name: "exact", bytes: [UInt8](repeating: 1, count: 2 * pageSize)).pageCount == 2)
        #expect(MemoryImage(name: "one", bytes: [7]).pageCount == 1)
    }

    @Test func memoryImagePagesAreOneContiguousBuffer() {
        let img = MemoryImage(name: "m", bytes: [UInt8](repeating: 3, count: 3 * pageSize))
        let p0 = img.withPage(0) { UInt(bitPattern: $0) }
        let p2 = img.withPage(2) { UInt(bitPattern: $0) }
        #expect(p2 - p0 == UInt(2 * pageSize))
    }

    @Test func memoryImagePageOutOfRangeIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) {
            MemoryImage(name: "m", bytes: [1]).withPage(1) { _ in }
        }
    }
}
