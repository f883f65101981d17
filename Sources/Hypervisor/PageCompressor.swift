import PageContents

/// Compresses page bytes with a real codec into a scratch buffer, and decompresses them.
///
/// Each VM has its own (the scratch buffers are per VM, so VMs can page out side by side);
/// it keeps the compression CPU time the cost model charges and the problems found when
/// compressed bytes are read back.
final class PageCompressor {
    let codec: any PageCodec
    private let scratch: UnsafeMutableRawPointer
    private let page: UnsafeMutableRawPointer
    /// Compression and decompression time charged (cost model), nanoseconds.
    private(set) var cpuNs: Int64 = 0
    /// Decompressions that failed or (when verifying) gave other bytes than the page held.
    private(set) var problems: [String] = []

    init(codec: any PageCodec) {
        self.codec = codec
        scratch = UnsafeMutableRawPointer.allocate(byteCount: max(codec.worstCaseSize, pageSize) + 64, alignment: 16)
        page = UnsafeMutableRawPointer.allocate(byteCount: pageSize, alignment: 16)
    }
    deinit { scratch.deallocate(); page.deallocate() }

    /// Compresses the page at `src`, charging `costNs`; the size if it is below `limit` bytes,
    /// else nil (the codec stops as soon as the output would not fit).
    func compressPage(_ src: UnsafeRawPointer, limit: Int, costNs: Int64 = 0) -> Int? {
        cpuNs += costNs
        return codec.compress(src, into: scratch, capacity: limit - 1)
    }

    /// The bytes of the last compression.
    func lastOutput(_ size: Int) -> [UInt8] {
        [UInt8](UnsafeRawBufferPointer(start: scratch, count: size))
    }

    /// Decompresses `data` into the compressor's page buffer; nil if the codec rejects it.
    func decompress(_ data: [UInt8]) -> UnsafeRawPointer? {
        let ok = data.withUnsafeBytes { codec.decompress($0.baseAddress!, count: $0.count, into: page) }
        return ok ? UnsafeRawPointer(page) : nil
    }

    /// Decompresses `data` (real codec work) and, with `verify`, compares the bytes with
    /// `expected`, what the page held when it was compressed; `costNs` is charged.
    func decompressChecked(_ data: [UInt8], expected: PageContent, generator: PageGenerator, verify: Bool,
                           costNs: Int64, page label: @autoclosure () -> String) {
        cpuNs += costNs
        guard let out = decompress(data) else {
            problems.append("\(label()): the codec rejected the compressed bytes")
            return
        }
        if verify {
            let same = generator.withBytes(expected) { PageCompare.equal(out, $0) }
            if !same { problems.append("\(label()): decompressed bytes differ from the page") }
        }
    }

    /// The problems found since the last call.
    func takeProblems() -> [String] {
        defer { problems.removeAll() }
        return problems
    }
}
