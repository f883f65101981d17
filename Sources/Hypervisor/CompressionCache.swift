import PageContents

/// One VM's compression cache: the pages the host took out of memory and keeps compressed.
///
/// Follows ESX's memory compression (4.1+): a page bound for host swap is compressed first
/// and kept here if it fits under the threshold; the cache is limited per VM and the oldest
/// entries move to the swap file when it is full. Sizes are rounded up to 16 bytes (as
/// zsmalloc's size classes) and the cache occupies whole machine frames.
///
/// An entry keeps the size the real codec gave and the page's content descriptor, not the
/// compressed bytes: the descriptor regenerates them (`PageCompressor.restore`), so the
/// simulator spends about 40 bytes of bookkeeping per compressed page instead of that plus
/// up to 2 KiB of bytes, while the host's accounting (bytes, frames, the limit) uses the
/// codec's sizes. With `--check` every
/// decompression re-runs the codec and compares size and bytes.
struct CompressionCache {
    /// Compressed size of each entry in bytes, as the codec gave it (0 when the entry is free).
    var size: [UInt16] = []
    /// What the page held (the compact form of its bytes): regenerates the compressed bytes.
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

    /// Adds an entry of `n` compressed bytes for guest page `pfn` holding `c`.
    mutating func insert(size n: Int, pfn: UInt32, content c: PageContent) -> Int {
        let e: Int
        if let f = freeEntries.popLast() {
            e = f
            size[e] = UInt16(n); content[e] = c; owner[e] = pfn; sequence[e] = nextSeq
        } else {
            e = size.count
            size.append(UInt16(n)); content.append(c); owner.append(pfn); sequence.append(nextSeq)
        }
        fifo.append((e, nextSeq))
        nextSeq += 1
        count += 1
        bytes += CompressionCache.stride(n)
        return e
    }

    mutating func remove(_ e: Int) {
        bytes -= CompressionCache.stride(Int(size[e]))
        size[e] = 0
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
