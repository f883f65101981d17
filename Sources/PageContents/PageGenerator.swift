import OvercommitSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Produces the 4096 bytes of any `PageContent`, deterministically and without allocating.
///
/// Every style draws from a xoshiro256** stream seeded by the descriptor's raw value
/// (style byte and seed), 64 bits at a time, so equal descriptors give equal bytes and
/// different seeds give different bytes (except `zero`). The styles imitate what
/// memory-image studies of real guests find (zero pages, code, text, pointer-rich heaps,
/// sparse structures, encrypted or compressed data). LZ4 (`LZ4_compress_default`) sizes of
/// one 4 KiB page, measured over 1000 seeds each and pinned with bands in
/// `CodecTests.compressedSizeBands`:
///
/// | style    | bytes                                                       | LZ4 size        |
/// |----------|-------------------------------------------------------------|-----------------|
/// | zero     | all zero                                                    | 26 B            |
/// | pattern  | one seed-derived 64-bit word repeated (zswap same-filled)   | 33 B            |
/// | sparse   | zeros with 8...40 non-zero words at distinct offsets        | 89-499 B        |
/// | text     | dictionary words, numbers, punctuation, lines (pool runs)   | 43-55 % (1778-2272 B) |
/// | code     | x86-64 instructions from an opcode table (pool runs)        | 53-69 % (2205-2826 B) |
/// | pointers | object records: 0x00007f.. heap pointers, small integers    | 38-56 % (1563-2305 B) |
/// | random   | uniform bytes                                               | 4114 B (> 4096) |
/// | stored   | page `page` of image `image` (`PageContent.storedLocation`) | as the image    |
///
/// Cost on one core (release build): zero and pattern ~0.1 us, sparse ~0.3 us, random,
/// text and code ~1 us, pointers ~2 us per page; LZ4 compression of the result costs more.
public struct PageGenerator: Sendable {
    /// Raw memory images that `.stored` descriptors index into.
    public let images: [MemoryImage]

    public init(images: [MemoryImage] = []) {
        self.images = images
    }

    /// Writes exactly 4096 bytes of `c` to `dst`.
    ///
    /// - Precondition: for `.stored`, the image index and page exist in `images`.
    public func fill(_ c: PageContent, into dst: UnsafeMutableRawPointer) {
        switch c.style {
        case .zero:
            memset(dst, 0, pageSize)
        case .pattern:
            PageGenerator.fillPattern(c, dst)
        case .sparse:
            PageGenerator.fillSparse(c, dst)
        case .text:
            PageGenerator.fillText(c, dst)
        case .code:
            PageGenerator.fillCode(c, dst)
        case .pointers:
            PageGenerator.fillPointers(c, dst)
        case .random:
            PageGenerator.fillRandom(c, dst)
        case .stored:
            let (image, page) = c.storedLocation
            precondition(image < images.count, "stored page names image \(image) but only \(images.count) images are loaded")
            let img = images[image]
            precondition(page < img.pageCount, "stored page \(page) is past the end of image '\(img.name)' (\(img.pageCount) pages)")
            img.withPage(page) { src in _ = memcpy(dst, src, pageSize) }
        }
    }

    /// The 4096 bytes of `c` as a new array (for tests and tools; `fill` avoids the copy).
    public func bytes(_ c: PageContent) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: pageSize) { buf, n in
            fill(c, into: UnsafeMutableRawPointer(buf.baseAddress!))
            n = pageSize
        }
    }

    /// Calls `body` with the bytes of `c`: for a stored page a pointer into its image (no copy),
    /// otherwise a stack buffer the bytes are generated into (no heap allocation).
    ///
    /// The buffer is an `InlineArray` on the stack: `withUnsafeTemporaryAllocation` takes the
    /// heap above 1 KiB on Linux, and freeing 4 KiB blocks among the simulator's other
    /// allocations cost more than zeroing the buffer (glibc's `unlink_chunk` was 5 % of a small
    /// consolidation run).
    @inlinable
    public func withBytes<R>(_ c: PageContent, _ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
        if c.style == .stored {
            let (image, page) = c.storedLocation
            precondition(image < images.count, "stored page names image \(image) but only \(images.count) images are loaded")
            return try images[image].withPage(page, body)
        }
        var buffer = InlineArray<256, SIMD2<UInt64>>(repeating: .zero)
        return try withUnsafeMutableBytes(of: &buffer) { buf in
            fill(c, into: buf.baseAddress!)
            return try body(UnsafeRawPointer(buf.baseAddress!))
        }
    }

    // MARK: - Styles

    @inline(__always)
    static func store(_ w: UInt64, _ dst: UnsafeMutableRawPointer, word i: Int) {
        dst.storeBytes(of: w.littleEndian, toByteOffset: i << 3, as: UInt64.self)
    }

    /// One word from the seed repeated 512 times. SplitMix64 is a bijection of its state,
    /// so different seeds give different words.
    static func fillPattern(_ c: PageContent, _ dst: UnsafeMutableRawPointer) {
        var sm = SplitMix64(state: c.raw)
        let w = sm.next()
        for i in 0..<(pageSize >> 3) { store(w, dst, word: i) }
    }

    /// Zeros with 8...40 non-zero words (pointers, small counters or random words) at
    /// distinct seed-chosen word offsets, like a freshly touched heap or a sparse array.
    static func fillSparse(_ c: PageContent, _ dst: UnsafeMutableRawPointer) {
        memset(dst, 0, pageSize)
        var r = Xoshiro256(seed: c.raw)
        let n = 8 + r.int(below: 33)
        for _ in 0..<n {
            var bits = r.next()
            // Every stored word is non-zero, so a zero word marks a free slot.
            while dst.loadUnaligned(fromByteOffset: Int(bits & 511) << 3, as: UInt64.self) != 0 { bits = r.next() }
            let slot = Int(bits & 511)
            let w: UInt64
            switch (bits >> 9) & 3 {
            case 0: w = 0x0000_7f00_0000_0000 | (r.next() & 0x00ff_ffff_fff8)  // a heap pointer
            case 1: w = 1 + (r.next() & 0xffff)  // a counter
            default: w = r.next() | 1  // anything non-zero
            }
            store(w, dst, word: slot)
        }
    }

    /// Uniform bytes: 512 words of the stream.
    static func fillRandom(_ c: PageContent, _ dst: UnsafeMutableRawPointer) {
        var r = Xoshiro256(seed: c.raw)
        for i in 0..<(pageSize >> 3) { store(r.next(), dst, word: i) }
    }

    /// Object records as in a C/C++ heap: each page holds records of 3...8 words whose
    /// fields have a per-page layout: a type/vtable pointer (one of two per page), heap
    /// pointers to nearby objects (common high bits 0x00007f.., 16-byte aligned, inside
    /// a 1 MiB window), small integers, flags, sizes and NULLs.
    static func fillPointers(_ c: PageContent, _ dst: UnsafeMutableRawPointer) {
        var r = Xoshiro256(seed: c.raw)
        // A 48-bit user-space heap region 0x00007fXX_XXX00000 and a type in the binary.
        let heapBase: UInt64 = 0x0000_7f00_0000_0000 | ((r.next() & 0xff_fff0) << 16)
        let vtable: UInt64 = 0x0000_5500_0000_0000 | (r.next() & 0xff_ffff_ffc0)
        let recordWords = 3 + r.int(below: 6)
        // Each field is ((x & and) << shift) + add, zeroed when `nullable` and x's top
        // bit is set, for a fresh random x per word: no branch per word.
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 4 * 8) { f in
            for field in 0..<recordWords {
                // Kinds: 0 type pointer (always first), 1 heap pointer (always second),
                // 2 small integer, 3 NULL or heap pointer, 4 flags, 5 size/length.
                let kind = field == 0 ? 0 : field == 1 ? 1 : 1 + r.int(below: 5)
                let (and, shift, add, nullable): (UInt64, UInt64, UInt64, Bool)
                switch kind {
                case 0: (and, shift, add, nullable) = (0x1, 6, vtable, false)
                case 1: (and, shift, add, nullable) = (0xffff, 4, heapBase, false)
                case 2: (and, shift, add, nullable) = (0x3f, 0, 0, false)
                case 3: (and, shift, add, nullable) = (0xffff, 4, heapBase, true)
                case 4: (and, shift, add, nullable) = (0x7, 8, 1, false)
                default: (and, shift, add, nullable) = (0xfff, 0, 0, false)
                }
                f[4 * field] = and; f[4 * field + 1] = shift; f[4 * field + 2] = add
                f[4 * field + 3] = nullable ? .max : 0
            }
            var field = 0
            for i in 0..<(pageSize >> 3) {
                let x = r.next()
                let k = 4 * field
                let keep = ~(f[k + 3] & (0 &- (x >> 63)))
                store((((x & f[k]) << f[k + 1]) &+ f[k + 2]) & keep, dst, word: i)
                field += 1
                if field == recordWords { field = 0 }
            }
        }
    }

    // MARK: Text and code

    /// Text: ASCII lines of dictionary words with numbers, punctuation and indentation
    /// (configuration files, logs, HTML), assembled from word-aligned runs of the text pool.
    static func fillText(_ c: PageContent, _ dst: UnsafeMutableRawPointer) {
        ContentPool.text.assemble(seed: c.raw, into: dst)
    }

    /// Code: x86-64 instruction sequences, assembled from instruction-aligned runs of the
    /// code pool.
    static func fillCode(_ c: PageContent, _ dst: UnsafeMutableRawPointer) {
        ContentPool.code.assemble(seed: c.raw, into: dst)
    }
}

/// A 64 KiB stream of generated text or code from which pages are cut, with a bitmap of
/// token starts (words, instructions).
///
/// Generating text or instructions token by token costs ~15-25 us per page (one
/// unpredictable branch per token); cutting a page into ~25 runs of 32-288 bytes from a
/// stream generated once costs well under a microsecond and keeps the statistics that
/// matter for compression: the stream's Zipf-distributed words, recurring phrases and
/// instruction idioms recur inside every page as they do in real text and code.
struct ContentPool: Sendable {
    static let size = 1 << 16
    /// Runs are `minRun ..< minRun + runSpread` bytes, snapped to token starts.
    static let minRun = 32
    static let runSpread: UInt64 = 256

    /// `size` bytes followed by slack.
    let bytes: [UInt8]
    /// Bit `i` set iff a token starts at byte `i`.
    let starts: [UInt64]

    static let text = ContentPool(seed: 0x7465_7874) { TextStream.generate(&$0, &$1) }
    static let code = ContentPool(seed: 0x636f_6465) { CodeStream.generate(&$0, &$1) }

    init(seed: UInt64, _ generate: (inout Xoshiro256, inout ByteSink) -> Void) {
        var r = Xoshiro256(seed: seed, component: "page-content-pool")
        var marks = [UInt64](repeating: 0, count: ContentPool.size / 64 + 1)
        let capacity = ContentPool.size + ByteSink.slack + 8
        bytes = marks.withUnsafeMutableBufferPointer { m in
            [UInt8](unsafeUninitializedCapacity: capacity) { buf, n in
                var sink = ByteSink(base: UnsafeMutableRawPointer(buf.baseAddress!), limit: ContentPool.size, marks: m.baseAddress!)
                while !sink.full { generate(&r, &sink) }
                n = capacity
            }
        }
        starts = marks
    }

    /// The first token start at or after `i` (or `size` if none).
    @inline(__always)
    func nextStart(_ starts: UnsafeBufferPointer<UInt64>, atOrAfter i: Int) -> Int {
        var word = i >> 6
        var bits = starts[word] >> UInt64(i & 63)
        if bits != 0 { return i + bits.trailingZeroBitCount }
        while true {
            word += 1
            if word >= starts.count { return ContentPool.size }
            bits = starts[word]
            if bits != 0 { return min(word << 6 + bits.trailingZeroBitCount, ContentPool.size) }
        }
    }

    /// Writes a page of runs chosen by a stream seeded with `seed`: each run starts at a
    /// token start and ends just before one.
    func assemble(seed: UInt64, into dst: UnsafeMutableRawPointer) {
        var r = Xoshiro256(seed: seed)
        bytes.withUnsafeBytes { pool in
            starts.withUnsafeBufferPointer { starts in
                var pos = 0
                while pos < pageSize {
                    let bits = r.next()
                    let from = nextStart(starts, atOrAfter: Int((bits & 0xffff_ffff) % UInt64(ContentPool.size - 1024)))
                    let to = nextStart(starts, atOrAfter: from + ContentPool.minRun + Int((bits >> 32) % ContentPool.runSpread))
                    let n = min(to - from, pageSize - pos)
                    memcpy(dst + pos, pool.baseAddress! + from, n)
                    pos += n
                }
            }
        }
    }
}

/// Writes generated bytes into a buffer with slack, without per-byte bounds checks, and
/// marks token starts.
struct ByteSink {
    /// Largest number of bytes one generator step may write after `full` was false.
    static let slack = 256
    let base: UnsafeMutableRawPointer
    let limit: Int
    let marks: UnsafeMutablePointer<UInt64>
    var pos = 0

    @inline(__always) var full: Bool { pos >= limit }

    /// Appends the low `count` bytes (0...8) of `v`, little-endian.
    @inline(__always) mutating func put(_ v: UInt64, count: Int) {
        base.storeBytes(of: v.littleEndian, toByteOffset: pos, as: UInt64.self)
        pos += count
    }

    /// Records that a token starts at the current position.
    @inline(__always) func mark() {
        if pos < limit { marks[pos >> 6] |= 1 << UInt64(pos & 63) }
    }
}

/// The text stream: lines of dictionary words (Zipf-like: frequent words dominate),
/// numbers, punctuation and indentation, with recurring phrases (log prefixes, key names)
/// that give real text its LZ matches.
enum TextStream {
    /// Recurring phrases; shares out of 256 of numbers and of phrases
    /// (`numberShare..<phraseShare`), the rest single words.
    static let phraseCount = 24
    static let numberShare: UInt64 = 12
    static let phraseShare: UInt64 = 100

    static func generate(_ r: inout Xoshiro256, _ w: inout ByteSink) {
        let words = TextDictionary.offsets.count - 1
        var phrases = [UInt64](repeating: 0, count: phraseCount)
        // A phrase: 2...4 word indices of 12 bits each, its length in the low 4 bits.
        for p in 0..<phraseCount {
            let len = 2 + r.next() % 3
            var packed = len
            for k in 0..<Int(len) {
                packed |= UInt64(TextDictionary.zipfWord(r.next(), words)) << UInt64(4 + 12 * k)
            }
            phrases[p] = packed
        }
        var lineWords = 0
        var lineLength = 4 + r.int(below: 12)
        while !w.full {
            let bits = r.next()
            let sel = (bits >> 32) & 0xff
            let capital = lineWords == 0 && (bits >> 42) & 7 == 0
            if lineWords == 0 && (bits >> 40) & 3 == 0 {
                w.put(0x2020, count: 2)  // indentation
            }
            if sel < numberShare {
                // A number: 1...6 decimal digits.
                w.mark()
                var div: UInt64 = 1
                for _ in 0..<Int((bits >> 56) % 6) { div *= 10 }
                var v = ((bits >> 12) & 0xfffff) % (div * 10)
                while div > 0 { w.put(0x30 + v / div, count: 1); v %= div; div /= 10 }
                lineWords += 1
            } else if sel < phraseShare {
                // One of the recurring phrases, words joined by spaces.
                let packed = phrases[Int(min((bits >> 45) & 0x1f, (bits >> 50) & 0x1f)) % phraseCount]
                let len = Int(packed & 0xf)
                for k in 0..<len {
                    if k > 0 { w.put(0x20, count: 1) }
                    TextDictionary.put(Int((packed >> UInt64(4 + 12 * k)) & 0xfff), capital: capital && k == 0, &w)
                }
                lineWords += len
            } else {
                TextDictionary.put(TextDictionary.zipfWord(bits, words), capital: capital, &w)
                lineWords += 1
            }
            if lineWords >= lineLength {
                if sel & 3 == 0 { w.put(0x0a2e, count: 2) } else { w.put(0x0a, count: 1) }  // ".\n"
                lineWords = 0
                lineLength = 4 + r.int(below: 12)
            } else {
                switch (bits >> 58) & 0xf {
                case 0: w.put(0x202c, count: 2)  // ", "
                case 1: w.put(0x3d, count: 1)  // "="
                case 2: w.put(0x203a, count: 2)  // ": "
                case 3: w.put(0x2f, count: 1)  // "/"
                default: w.put(0x20, count: 1)
                }
            }
        }
    }
}

/// The code stream: x86-64 instructions from an opcode table (prologues, moves with rbp
/// displacements, ALU with immediates, calls and branches with rel32/rel8, RIP-relative
/// loads, NOP padding) with randomised registers and operands, and recurring idioms (the
/// same few instructions with the same operands: argument set-up, spills), which is what
/// LZ finds in real code.
enum CodeStream {
    /// Recurring instruction sequences, their maximum length, and the share (out of 256)
    /// of emitted sequences that are such idioms.
    static let idiomCount = 16
    static let idiomLength = 5
    static let idiomShare: UInt64 = 72

    /// An instruction: template index in bits 0-7, reg 8-10, rm 11-13, operand bits 32-63.
    static func randomInstruction(_ r: inout Xoshiro256) -> UInt64 {
        let bits = r.next()
        let n = UInt64(CodeTable.templates.count)
        // Favour the first (most common) templates.
        let a = ((bits & 0xffff) * n) >> 16
        let b = (((bits >> 16) & 0xffff) * n) >> 16
        // Compilers use rax, rcx, rdx, rbx... much more than rdi or r7.
        let reg = min((bits >> 32) & 7, (bits >> 35) & 7)
        let rm = min((bits >> 38) & 7, (bits >> 41) & 7)
        return min(a, b) | reg << 8 | rm << 11 | (r.next() & 0xffff_ffff_0000_0000)
    }

    static func emit(_ ins: UInt64, _ w: inout ByteSink) {
        let t = CodeTable.templates[Int(ins & 0xff)]
        let reg = (ins >> 8) & 7, rm = (ins >> 11) & 7
        w.mark()
        w.put(
            t.opcodes | ((reg << 3) << t.modrmShift) & t.regMask | (rm << t.modrmShift) & t.rmMask,
            count: Int(t.count))
        let imm = ins >> 32
        switch t.operand {
        case .none:
            break
        case .disp8:
            // A stack slot: a negative multiple of 8 from rbp.
            w.put(0xf8 &- ((imm & 0xf) << 3), count: 1)
        case .imm8:
            w.put((imm & 0xf) << 2, count: 1)
        case .imm32:
            w.put(imm & 0x1ff, count: 4)
        case .rel32:
            // A call or RIP-relative displacement within +-64 KiB.
            w.put((imm & 0x1ffff) &- 0x10000, count: 4)
        case .rel8:
            w.put(imm & 0x7f, count: 1)
        }
    }

    static func generate(_ r: inout Xoshiro256, _ w: inout ByteSink) {
        var idioms = [UInt64](repeating: 0, count: idiomCount * idiomLength)
        for i in 0..<idioms.count { idioms[i] = randomInstruction(&r) }
        while !w.full {
            let bits = r.next()
            if bits & 0xff < idiomShare {
                let pick = Int(min((bits >> 8) & 0xff, (bits >> 16) & 0xff)) % idiomCount
                let len = 2 + Int((bits >> 24) & 0xff) % (idiomLength - 1)
                for k in 0..<len { emit(idioms[pick * idiomLength + k], &w) }
            } else {
                emit(randomInstruction(&r), &w)
            }
        }
    }
}

/// One x86-64 instruction template: up to 8 fixed bytes (little-endian packed), the
/// ModRM (or opcode) byte whose reg/rm fields may be randomised, and the trailing operand.
struct InstructionTemplate: Sendable {
    enum Operand: Sendable { case none, disp8, imm8, imm32, rel32, rel8 }
    let opcodes: UInt64
    let count: UInt8
    /// Bit position of the ModRM byte and the masks of its reg (bits 3-5) and rm (0-2) fields
    /// at that position (zero when not randomised).
    let modrmShift: UInt64
    let regMask: UInt64
    let rmMask: UInt64
    let operand: Operand

    init(_ bytes: [UInt8], modrm: Int = 0, reg: Bool = false, rm: Bool = false, _ operand: Operand = .none) {
        var packed: UInt64 = 0
        for (i, b) in bytes.enumerated() { packed |= UInt64(b) << UInt64(8 * i) }
        opcodes = packed; count = UInt8(bytes.count)
        modrmShift = UInt64(8 * modrm)
        regMask = reg ? 0x38 << modrmShift : 0
        rmMask = rm ? 0x07 << modrmShift : 0
        self.operand = operand
    }
}

/// The opcode table of the code generator, most frequent instructions first (as in
/// instruction-mix studies of compiled x86-64 code: mov, call, lea, cmp/test, jcc, push/pop).
enum CodeTable {
    static let templates: [InstructionTemplate] = [
        .init([0x48, 0x8b, 0x45], modrm: 2, reg: true, .disp8),  // mov r64, [rbp-d8]
        .init([0x48, 0x89, 0x45], modrm: 2, reg: true, .disp8),  // mov [rbp-d8], r64
        .init([0xe8], .rel32),  // call rel32
        .init([0x48, 0x89, 0xc0], modrm: 2, reg: true, rm: true),  // mov r64, r64
        .init([0x48, 0x8d, 0x05], modrm: 2, reg: true, .rel32),  // lea r64, [rip+d32]
        .init([0x85, 0xc0], modrm: 1, reg: true, rm: true),  // test r32, r32
        .init([0x74], .rel8),  // je rel8
        .init([0x8b, 0x40], modrm: 1, reg: true, rm: true, .imm8),  // mov r32, [r+d8]
        .init([0x48, 0x83, 0xc0], modrm: 2, rm: true, .imm8),  // add r64, imm8
        .init([0x75], .rel8),  // jne rel8
        .init([0x31, 0xc0], modrm: 1, reg: true, rm: true),  // xor r32, r32
        .init([0x48, 0x8b, 0x05], modrm: 2, reg: true, .rel32),  // mov r64, [rip+d32]
        .init([0x55, 0x48, 0x89, 0xe5]),  // push rbp; mov rbp, rsp
        .init([0x5d, 0xc3]),  // pop rbp; ret
        .init([0x48, 0x83, 0xec], .imm8),  // sub rsp, imm8
        .init([0x83, 0xf8], modrm: 1, rm: true, .imm8),  // cmp r32, imm8
        .init([0xb8], modrm: 0, rm: true, .imm32),  // mov r32, imm32
        .init([0x41, 0x54]),  // push r12
        .init([0x53]),  // push rbx
        .init([0x5b]),  // pop rbx
        .init([0x0f, 0x84], .rel32),  // je rel32
        .init([0xe9], .rel32),  // jmp rel32
        .init([0xeb], .rel8),  // jmp rel8
        .init([0x48, 0x39, 0xc0], modrm: 2, reg: true, rm: true),  // cmp r64, r64
        .init([0x0f, 0xb6, 0x40], modrm: 2, reg: true, rm: true, .imm8),  // movzx r32, byte [r+d8]
        .init([0xc7, 0x45], .disp8),  // mov dword [rbp-d8], ...
        .init([0x00, 0x00, 0x00, 0x00]),  //   ... imm32 0
        .init([0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00]),  // nopw 0(rax,rax,1)
        .init([0x0f, 0x1f, 0x40, 0x00]),  // nopl 0(rax)
        .init([0xcc]),  // int3 padding
        .init([0xff, 0x15], .rel32),  // call [rip+d32]
        .init([0x48, 0x63, 0xc0], modrm: 2, reg: true, rm: true),  // movsxd r64, r32
        .init([0xc1, 0xe0], modrm: 1, rm: true, .imm8),  // shl r32, imm8
        .init([0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00]),  // nopl 0(rax) d32
    ]
}

/// The word list of the text generator, most frequent first, in one flat byte buffer.
enum TextDictionary {
    static let words: [String] = [
        "the", "of", "and", "to", "a", "in", "is", "for", "that", "on", "with", "as", "it",
        "be", "by", "this", "are", "from", "or", "at", "not", "an", "was", "which", "have",
        "error", "info", "debug", "warning", "user", "server", "file", "name", "value", "true",
        "false", "null", "enabled", "default", "config", "path", "host", "port", "time",
        "request", "response", "status", "version", "memory", "page", "kernel", "system",
        "process", "thread", "started", "stopped", "connection", "timeout", "failed",
        "success", "data", "type", "id", "key", "class", "div", "span", "href", "http",
        "https", "www", "com", "org", "html", "json", "size", "count", "length", "index",
        "buffer", "cache", "read", "write", "open", "close", "send", "receive", "client",
        "service", "module", "function", "return", "if", "else", "while", "int", "string",
        "list", "map", "set", "get", "new", "all", "more", "when", "can", "will", "one",
        "two", "other", "their", "there", "been", "has", "would", "what", "about", "into",
        "only", "some", "could", "them", "than", "then", "these", "also", "after", "first",
        "used", "use", "because", "between", "each", "those", "under", "without", "again",
        "network", "interface", "address", "device", "driver", "mount", "volume", "disk",
        "partition", "block", "sector", "session", "login", "logout", "password", "account",
        "database", "table", "column", "query", "select", "insert", "update", "delete",
        "transaction", "commit", "rollback", "schedule", "interval", "retry", "attempt",
        "limit", "quota", "policy", "option", "parameter", "argument", "command", "script",
        "shell", "environment", "variable", "library", "package", "install", "upgrade",
        "license", "copyright", "author", "description", "summary", "title", "header",
        "footer", "content", "message", "event", "handler", "listener", "callback",
        "exception", "stack", "trace", "line", "offset", "pointer", "reference",
        "allocation", "deallocation", "garbage", "collector", "virtual", "physical",
        "hypervisor", "guest", "balloon", "swap", "compression", "sharing", "overcommit",
        "January", "February", "March", "Monday", "Tuesday", "localhost", "127.0.0.1",
        "/usr/lib", "/var/log", "/etc", "<div>", "</div>", "<p>", "</p>", "{", "}", "[", "]",
    ]

    /// The words back to back.
    static let bytes: [UInt8] = words.flatMap { Array($0.utf8) }

    /// A word index from 33 random bits: the smallest of three uniform indices, which
    /// favours early (frequent) words.
    static func zipfWord(_ bits: UInt64, _ wordCount: Int) -> Int {
        let n = UInt64(wordCount)
        let a = ((bits & 0x7ff) * n) >> 11
        let b = (((bits >> 11) & 0x7ff) * n) >> 11
        let d = (((bits >> 22) & 0x3ff) * n) >> 10
        return Int(min(a, b, d))
    }

    /// Appends word `idx`, its first letter capitalised if asked.
    static func put(_ idx: Int, capital: Bool, _ w: inout ByteSink) {
        let start = Int(offsets[idx]), len = Int(offsets[idx + 1]) - start
        var lo: UInt64 = 0, hi: UInt64 = 0
        for k in 0..<min(len, 8) { lo |= UInt64(bytes[start + k]) << UInt64(8 * k) }
        for k in 8..<max(len, 8) { hi |= UInt64(bytes[start + k]) << UInt64(8 * (k - 8)) }
        if capital && lo & 0xff >= 0x61 && lo & 0xff <= 0x7a { lo -= 0x20 }
        w.mark()
        w.put(lo, count: min(len, 8))
        if len > 8 { w.put(hi, count: len - 8) }
    }

    static let offsets: [UInt16] = {
        var out: [UInt16] = [0]
        var total = 0
        for w in words {
            precondition((1...16).contains(w.utf8.count), "dictionary words are 1...16 bytes")
            total += w.utf8.count; out.append(UInt16(total))
        }
        return out
    }()
}
