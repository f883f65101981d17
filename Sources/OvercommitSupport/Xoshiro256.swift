/// A seedable xoshiro256** generator, seeded through SplitMix64.
///
/// Written in the project so golden outputs never depend on the standard library's
/// algorithms. Bounded integers use Lemire's multiply-shift rejection method; unit doubles
/// take the top 53 bits. Every component gets its own stream from `(seed, component)`.
public struct Xoshiro256: Sendable, Equatable {
    @usableFromInline var s0: UInt64
    @usableFromInline var s1: UInt64
    @usableFromInline var s2: UInt64
    @usableFromInline var s3: UInt64

    /// Seeds the four state words from one 64-bit seed through SplitMix64.
    public init(seed: UInt64) {
        var sm = SplitMix64(state: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 0x9E37_79B9_7F4A_7C15 }
    }

    /// A stream for one named component, independent of every other component's stream.
    public init(seed: UInt64, component: String) {
        self.init(seed: seed ^ StableHash.fnv1a64(component))
    }

    /// A stream for one numbered instance of a component (e.g. guest 3's workload).
    public init(seed: UInt64, component: String, index: Int) {
        self.init(seed: StableHash.mix(seed ^ StableHash.fnv1a64(component), UInt64(truncatingIfNeeded: index)))
    }

    @inlinable @inline(__always)
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    /// The next 64 random bits.
    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        let result = Xoshiro256.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = Xoshiro256.rotl(s3, 45)
        return result
    }

    /// A uniform integer in `0..<bound` (Lemire's nearly-divisionless method). `bound` > 0.
    @inlinable @inline(__always)
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "bound must be positive")
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return m.high
    }

    /// A uniform integer in `0..<bound`. `bound` > 0.
    @inlinable @inline(__always)
    public mutating func int(below bound: Int) -> Int { Int(next(below: UInt64(bound))) }

    /// A uniform integer in the closed range.
    @inlinable
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next(below: UInt64(range.upperBound - range.lowerBound) + 1))
    }

    /// A uniform double in [0, 1) from the top 53 bits.
    @inlinable @inline(__always)
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// True with probability `p`.
    @inlinable @inline(__always)
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// An exponentially distributed double with the given mean.
    @inlinable
    public mutating func exponential(mean: Double) -> Double {
        -mean * log1pNeg(unit())
    }

    @inlinable func log1pNeg(_ u: Double) -> Double {
        // log(1 - u) without Foundation; u in [0,1).
        var x = 1.0 - u
        if x <= 0 { x = 0x1.0p-53 }
        return naturalLog(x)
    }

    /// Fisher-Yates shuffle with this generator (stable across Swift versions).
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = int(below: i + 1)
            if i != j { a.swapAt(i, j) }
        }
    }
}

/// SplitMix64, used to expand seeds.
public struct SplitMix64: Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Process-independent hashing for seeds and identifiers (Swift's `Hasher` is salted per process).
public enum StableHash {
    /// FNV-1a over the UTF-8 bytes of a string.
    public static func fnv1a64(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h ^= UInt64(b); h = h &* 0x100_0000_01b3 }
        return h
    }

    /// A strong 64-bit mix of two words (SplitMix64 finaliser over their combination).
    @inlinable @inline(__always)
    public static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var z = a &+ 0x9E37_79B9_7F4A_7C15 &* (b | 1) ^ (b &* 0xD6E8_FEB8_6659_FD93)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Natural logarithm without Foundation (used by the exponential distribution).
@inlinable
public func naturalLog(_ x: Double) -> Double {
    // Reduce x = m * 2^e with m in [1,2), then log(m) by atanh series.
    precondition(x > 0)
    let e = x.exponent
    let m = x.significand
    let y = (m - 1) / (m + 1)
    let y2 = y * y
    var term = y
    var sum = 0.0
    var k = 1.0
    for _ in 0..<30 {
        sum += term / k
        term *= y2
        k += 2
    }
    return 2 * sum + Double(e) * 0.693_147_180_559_945_3
}
