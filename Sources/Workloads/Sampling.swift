#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CPrefetch
import GuestKernel
import OvercommitSupport
import PageContents

/// Zipf's law over `count` ranks: P(rank k) ∝ 1 / (k + 1)^exponent.
///
/// Sampling is O(1) expected: a cumulative table plus a guide table (Chen & Asau's indexed
/// search) maps a uniform draw straight to a bucket, then a short forward scan finds the rank.
/// Built once; no allocation per sample. Weights use the project's own `exp`/`log` so the
/// table is bit-identical on every platform.
struct ZipfSampler: Sendable {
    let cdf: [Double]
    let guide: [Int32]

    init(count: Int, exponent: Double) {
        precondition(count > 0 && count < Int(Int32.max))
        var c = [Double](repeating: 0, count: count)
        var sum = 0.0
        for k in 0..<count {
            sum += exponent == 0 ? 1 : deterministicExp(-exponent * naturalLog(Double(k + 1)))
            c[k] = sum
        }
        for k in 0..<count { c[k] /= sum }
        c[count - 1] = 1.0
        var g = [Int32](repeating: 0, count: count)
        var i = 0
        for j in 0..<count {
            let threshold = Double(j) / Double(count)
            while c[i] <= threshold { i += 1 }
            g[j] = Int32(i)
        }
        cdf = c
        guide = g
    }

    var count: Int { cdf.count }

    /// A rank in `0..<count` (0 the most popular).
    @inline(__always)
    func sample(_ rng: inout Xoshiro256) -> Int {
        let u = rng.unit()
        return cdf.withUnsafeBufferPointer { c in
            var i = Int(guide[Int(u * Double(c.count))])
            while c[i] <= u { i += 1 }
            return i
        }
    }
}

/// A fixed pseudo-random permutation of `0..<count`: i ↦ (i·a + b) mod count with
/// gcd(a, count) = 1. Scatters ranks (hot pages, popular documents) over a region without a
/// table, as real hot data is scattered over a buffer pool or a file.
struct Scatter: Sendable {
    let count: UInt64
    let a: UInt64
    let b: UInt64

    init(count: Int, rng: inout Xoshiro256) {
        precondition(count > 0)
        self.count = UInt64(count)
        if count == 1 { a = 1; b = 0; return }
        // A multiplier near count * golden ratio, moved to the next value coprime to count.
        var m = UInt64(Double(count) * 0.618_033_988_749_895) | 1
        m = m % self.count
        if m == 0 { m = 1 }
        while gcd(m, self.count) != 1 { m = (m + 1) % self.count; if m == 0 { m = 1 } }
        a = m
        b = rng.next(below: self.count)
    }

    @inline(__always)
    func map(_ i: Int) -> Int { Int((UInt64(i) &* a &+ b) % count) }

    /// The inverse of `map`: which i maps to `index`.
    func rank(of index: Int) -> Int {
        let shifted = (UInt64(index) + count - b % count) % count
        return Int(count.dividingFullWidth(shifted.multipliedFullWidth(by: modularInverse(a, count))).remainder)
    }
}

/// Modular inverse of `a` modulo `m` (gcd(a, m) = 1), by the extended Euclidean algorithm.
func modularInverse(_ a: UInt64, _ m: UInt64) -> UInt64 {
    if m == 1 { return 0 }
    var (t, newT): (Int64, Int64) = (0, 1)
    var (r, newR): (Int64, Int64) = (Int64(m), Int64(a % m))
    while newR != 0 {
        let q = r / newR
        (t, newT) = (newT, t - q * newT)
        (r, newR) = (newR, r - q * newR)
    }
    return UInt64(t < 0 ? t + Int64(m) : t)
}

func gcd(_ x: UInt64, _ y: UInt64) -> UInt64 {
    var a = x, b = y
    while b != 0 { (a, b) = (b, a % b) }
    return a
}

/// A fixed-size set of small integers `0..<count`, one bit each, in a zeroed allocation (the
/// words never set cost no memory). A class held as a `let`, so that testing a bit takes no
/// reference count; `prefetch` starts loading a bit's word for a coming test (a workload's
/// lookahead: the set of a large buffer pool is megabytes, tested at random).
final class BitSet {
    let count: Int
    private let words: UnsafeMutablePointer<UInt64>
    private let wordCount: Int

    init(count: Int) {
        self.count = count
        wordCount = max(1, (count + 63) / 64)
        words = calloc(wordCount, MemoryLayout<UInt64>.stride)!.bindMemory(to: UInt64.self, capacity: wordCount)
    }

    deinit { free(words) }

    @inline(__always) func contains(_ i: Int) -> Bool {
        precondition(i >= 0 && i < count, "BitSet: \(i) out of 0..<\(count)")
        return words[i >> 6] & (1 << UInt64(i & 63)) != 0
    }

    @inline(__always) func insert(_ i: Int) {
        precondition(i >= 0 && i < count, "BitSet: \(i) out of 0..<\(count)")
        words[i >> 6] |= 1 << UInt64(i & 63)
    }

    func removeAll() { words.update(repeating: 0, count: wordCount) }

    /// Starts loading the word of `i` (no effect on the set).
    @inline(__always) func prefetch(_ i: Int) {
        if i >= 0 && i < count { oc_prefetch(words + (i >> 6)) }
    }
}

/// e^x without Foundation, deterministic: x = k·ln2 + r, |r| ≤ ln2/2, Taylor series for e^r.
func deterministicExp(_ x: Double) -> Double {
    if x > 709 { return .infinity }
    if x < -745 { return 0 }
    let ln2 = 0.693_147_180_559_945_3
    let k = (x / ln2).rounded()
    let r = x - k * ln2
    var term = 1.0, sum = 1.0
    for n in 1...24 {
        term *= r / Double(n)
        sum += term
    }
    // Scale by 2^k in two steps so subnormal results stay accurate.
    let ki = Int(k)
    let half = ki / 2
    return sum * Double(sign: .plus, exponent: half, significand: 1) * Double(sign: .plus, exponent: ki - half, significand: 1)
}

/// How a workload names its processes' anonymous content: the kernel's argument form.
typealias StyleMix = [(ContentStyle, Double)]

extension GuestKernel {
    /// Spawns a process, applies the workload's oom_score_adj and content mix, charges it.
    func spawnProcess(_ name: String, adj: Int, mix: StyleMix, context: inout WorkloadContext) -> PID {
        let pid = spawn(name: name, oomScoreAdj: adj)
        if !mix.isEmpty { setAnonContentMix(pid, mix) }
        context.stats.spawns += 1
        context.chargeSyscall()
        return pid
    }

    /// Forks a process; the child gets the content mix. nil (and a recorded refusal) on ENOMEM.
    func forkProcess(_ parent: PID, mix: StyleMix, context: inout WorkloadContext) -> PID? {
        context.chargeSyscall()
        switch fork(parent) {
        case .success(let child):
            context.stats.forks += 1
            if !mix.isEmpty { setAnonContentMix(child, mix) }
            return child
        case .failure:
            context.stats.refusedForks += 1
            return nil
        }
    }

    /// mmap of anonymous private memory; nil (and a recorded refusal) on failure.
    func mapAnonymous(_ pid: PID, pages: Int, context: inout WorkloadContext) -> VPN? {
        context.chargeSyscall()
        switch mmap(pid, pages: pages) {
        case .success(let vpn):
            context.stats.allocations += 1
            context.stats.allocatedPages += pages
            return vpn
        case .failure:
            context.stats.refusedAllocations += 1
            return nil
        }
    }

    /// A read-only (executable) mapping of a whole file, as the loader maps a binary's text;
    /// nil when the mapping fails.
    func mapFile(_ pid: PID, file: FileID, context: inout WorkloadContext) -> VPN? {
        context.chargeSyscall()
        if case .success(let vpn) = mmap(pid, pages: filePages(file), protection: .readExec, backing: .file(file, offset: 0)) {
            return vpn
        }
        return nil
    }

    /// A private mapping of `pages` pages of a file from page `offset`, readable, writable and
    /// executable (a program's text and data as a trace replay maps them: reads come from the
    /// page cache, writes copy into anonymous memory); nil (and a recorded refusal) on failure.
    func mapPrivateFile(_ pid: PID, file: FileID, offset: Int, pages: Int, context: inout WorkloadContext) -> VPN? {
        context.chargeSyscall()
        switch mmap(pid, pages: pages, protection: [.read, .write, .exec], backing: .file(file, offset: offset)) {
        case .success(let vpn):
            context.stats.allocations += 1
            context.stats.allocatedPages += pages
            return vpn
        case .failure:
            context.stats.refusedAllocations += 1
            return nil
        }
    }

    /// Exits a process if it is still alive.
    func exitProcess(_ pid: PID, context: inout WorkloadContext) {
        guard isAlive(pid) else { return }
        context.chargeSyscall()
        exit(pid)
        context.stats.exits += 1
    }
}

/// When a workload may run: `start_at` and `stop_at` counted from its first slice.
struct Lifetime: Sendable {
    let startDelay: Int64
    let stopDelay: Int64
    private(set) var origin: Int64 = -1

    init<P: WorkloadParameters>(_ p: P) {
        startDelay = p.start_at.nanoseconds
        stopDelay = p.stop_at?.nanoseconds ?? .max
    }
    init(startDelay: Int64 = 0, stopDelay: Int64 = .max) {
        self.startDelay = startDelay
        self.stopDelay = stopDelay
    }

    /// Absolute time at which the workload must stop (`Int64.max` for never).
    var stopTime: Int64 { origin < 0 || stopDelay == .max ? .max : origin &+ stopDelay }

    /// Records the origin on the first call and idles until the start time. True when the
    /// workload may issue work now (started, budget left).
    mutating func ready(_ c: inout WorkloadContext) -> Bool {
        if origin < 0 { origin = c.now }
        let start = origin &+ startDelay
        if c.now < start { c.idle(until: start) }
        return c.now >= start && c.budget > 0
    }
}
