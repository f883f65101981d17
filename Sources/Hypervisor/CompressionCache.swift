import PageContents

/// One VM's compression cache: the compressed bytes of pages the host took out of memory.
///
/// Follows ESX's memory compression (4.1+): a page bound for host swap is compressed first
/// and kept here if it fits under the threshold; the cache is limited per VM and the oldest
/// entries move to the swap file when it is full. Sizes are rounded up to 16 bytes (as
/// zsmalloc's size classes) and the cache occupies whole machine frames.
struct CompressionCache {
    /// Compressed bytes of each entry (empty when the entry is free).
    var data: [[UInt8]] = []
    /// What the page held (the compact form of its bytes), to verify decompression against.
    var content: [PageContent] = []
    /// Guest frame each entry belongs to (`UInt32.max` when free).
    var owner: [UInt32] = []
    var sequence: [UInt64] = []
    var freeEntries: [Int] = []
    /// Entries in insertion order, with the sequence number they were inserted with.
    var fifo: [(entry: Int, seq: UInt64)] = []
    var fifoHead = 0
    var nextSeq: UInt64 = 0
    private(set) var count = 0
    private(set) var bytes = 0
    /// Machine frames the cache occupies (kept equal to `framesFor(bytes:)` by the host).
    var frames = 0
    var machineFrames: [UInt32] = []
    let limitBytes: Int

    init(limitBytes: Int) { self.limitBytes = limitBytes }

    /// Bytes an entry of `n` compressed bytes takes in the pool.
    static func stride(_ n: Int) -> Int { (n + 15) & ~15 }
    static func framesFor(bytes: Int) -> Int { (bytes + pageSize - 1) / pageSize }

    mutating func insert(_ d: [UInt8], pfn: UInt32, content c: PageContent) -> Int {
        let e: Int
        if let f = freeEntries.popLast() {
            e = f
            data[e] = d; content[e] = c; owner[e] = pfn; sequence[e] = nextSeq
        } else {
            e = data.count
            data.append(d); content.append(c); owner.append(pfn); sequence.append(nextSeq)
        }
        fifo.append((e, nextSeq))
        nextSeq += 1
        count += 1
        bytes += CompressionCache.stride(d.count)
        return e
    }

    mutating func remove(_ e: Int) {
        bytes -= CompressionCache.stride(data[e].count)
        data[e] = []
        owner[e] = .max
        content[e] = .zero
        freeEntries.append(e)
        count -= 1
        if fifoHead > 4096 && fifoHead * 2 > fifo.count {
            fifo.removeFirst(fifoHead)
            fifoHead = 0
        }
    }

    /// The oldest live entry.
    mutating func oldest() -> Int? {
        while fifoHead < fifo.count {
            let (e, s) = fifo[fifoHead]
            if owner[e] != .max && sequence[e] == s { return e }
            fifoHead += 1
        }
        return nil
    }
}
