/// An integer beyond 64 bits, as Python's `int` holds it: sign and magnitude.
///
/// MOM's evaluator computes with Python integers, which have no size limit; a policy that
/// multiplies two memory sizes in KiB (2^40 × 2^40) gets an exact 80-bit result and can
/// divide it back to a float. `PolicyValue.int` holds every value that fits in 64 bits and
/// this type the others, so results agree with MOM's whatever their size (up to
/// `maxBits`, far beyond any memory figure).
public struct BigInt: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Little-endian 32-bit limbs of the magnitude, no trailing zero limbs (zero: empty).
    var limbs: [UInt32]
    var negative: Bool

    /// The largest magnitude allowed, in bits (Python's limit is memory; this one keeps a
    /// runaway shift from allocating gigabytes).
    public static let maxBits = 16_384

    init(limbs: [UInt32], negative: Bool) {
        var l = limbs
        while let last = l.last, last == 0 { l.removeLast() }
        self.limbs = l
        self.negative = negative && !l.isEmpty
    }

    public init(_ v: Int) {
        let m = v.magnitude
        self.init(limbs: [UInt32(truncatingIfNeeded: m), UInt32(truncatingIfNeeded: m >> 32)], negative: v < 0)
    }

    var isZero: Bool { limbs.isEmpty }

    /// The value as an `Int` if it fits.
    var asInt: Int? {
        guard limbs.count <= 2 else { return nil }
        var m: UInt64 = 0
        for (i, l) in limbs.enumerated() { m |= UInt64(l) << (32 * UInt64(i)) }
        if negative {
            if m <= UInt64(Int.max) { return -Int(m) }
            if m == UInt64(Int.max) + 1 { return Int.min }
            return nil
        }
        return m <= UInt64(Int.max) ? Int(m) : nil
    }

    /// The value as a policy value: `.int` when it fits in 64 bits.
    var value: PolicyValue { asInt.map { .int($0) } ?? .bigInt(self) }

    var bitWidth: Int {
        guard let last = limbs.last else { return 0 }
        return 32 * (limbs.count - 1) + (32 - last.leadingZeroBitCount)
    }

    // MARK: Magnitudes

    static func compareMagnitudes(_ a: [UInt32], _ b: [UInt32]) -> Int {
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        for i in stride(from: a.count - 1, through: 0, by: -1) where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
        return 0
    }

    static func addMagnitudes(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var out = [UInt32](repeating: 0, count: max(a.count, b.count) + 1)
        var carry: UInt64 = 0
        for i in 0..<(out.count - 1) {
            let s = UInt64(i < a.count ? a[i] : 0) + UInt64(i < b.count ? b[i] : 0) + carry
            out[i] = UInt32(truncatingIfNeeded: s)
            carry = s >> 32
        }
        out[out.count - 1] = UInt32(carry)
        return out
    }

    /// a - b for |a| >= |b|.
    static func subtractMagnitudes(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var out = a
        var borrow: Int64 = 0
        for i in 0..<a.count {
            var d = Int64(a[i]) - Int64(i < b.count ? b[i] : 0) - borrow
            borrow = 0
            if d < 0 { d += 1 << 32; borrow = 1 }
            out[i] = UInt32(d)
        }
        return out
    }

    static func multiplyMagnitudes(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        guard !a.isEmpty, !b.isEmpty else { return [] }
        var out = [UInt32](repeating: 0, count: a.count + b.count)
        for i in 0..<a.count {
            var carry: UInt64 = 0
            let x = UInt64(a[i])
            for j in 0..<b.count {
                let t = x * UInt64(b[j]) + UInt64(out[i + j]) + carry
                out[i + j] = UInt32(truncatingIfNeeded: t)
                carry = t >> 32
            }
            out[i + b.count] = UInt32(carry)
        }
        return out
    }

    static func shiftLeftMagnitude(_ a: [UInt32], _ n: Int) -> [UInt32] {
        guard !a.isEmpty else { return [] }
        let words = n / 32, bits = n % 32
        var out = [UInt32](repeating: 0, count: words) + a + [0]
        if bits > 0 {
            for i in stride(from: out.count - 1, through: words, by: -1) {
                let low = i > words ? out[i - 1] >> UInt32(32 - bits) : 0
                out[i] = (out[i] << UInt32(bits)) | low
            }
        }
        return out
    }

    /// The magnitude shifted right, and whether any 1 bit was shifted out.
    static func shiftRightMagnitude(_ a: [UInt32], _ n: Int) -> ([UInt32], Bool) {
        let words = n / 32, bits = n % 32
        guard words < a.count else { return ([], !a.isEmpty) }
        var lost = a[..<words].contains { $0 != 0 }
        var out = Array(a[words...])
        if bits > 0 {
            lost = lost || out[0] & ((1 << UInt32(bits)) - 1) != 0
            for i in 0..<out.count {
                let high = i + 1 < out.count ? out[i + 1] << UInt32(32 - bits) : 0
                out[i] = (out[i] >> UInt32(bits)) | high
            }
        }
        return (out, lost)
    }

    /// Quotient and remainder of magnitudes (shift-and-subtract; the numbers are small).
    static func divideMagnitudes(_ a: [UInt32], _ b: [UInt32]) -> (q: [UInt32], r: [UInt32]) {
        precondition(!b.isEmpty)
        if compareMagnitudes(a, b) < 0 { return ([], a) }
        if b.count == 1 {
            var q = [UInt32](repeating: 0, count: a.count)
            var r: UInt64 = 0
            let d = UInt64(b[0])
            for i in stride(from: a.count - 1, through: 0, by: -1) {
                let cur = (r << 32) | UInt64(a[i])
                q[i] = UInt32(cur / d)
                r = cur % d
            }
            return (BigInt(limbs: q, negative: false).limbs, BigInt(limbs: [UInt32(r)], negative: false).limbs)
        }
        let aBits = BigInt(limbs: a, negative: false).bitWidth
        var q = [UInt32](repeating: 0, count: a.count)
        var r: [UInt32] = []
        for bit in stride(from: aBits - 1, through: 0, by: -1) {
            r = shiftLeftMagnitude(r, 1)
            if (a[bit / 32] >> UInt32(bit % 32)) & 1 == 1 {
                if r.isEmpty { r = [1] } else { r[0] |= 1 }
            }
            r = BigInt(limbs: r, negative: false).limbs
            if compareMagnitudes(r, b) >= 0 {
                r = BigInt(limbs: subtractMagnitudes(r, b), negative: false).limbs
                q[bit / 32] |= 1 << UInt32(bit % 32)
            }
        }
        return (BigInt(limbs: q, negative: false).limbs, r)
    }

    // MARK: Arithmetic

    static func checked(_ r: BigInt) throws(OperationError) -> BigInt {
        if r.bitWidth > maxBits { throw OperationError(.value, "integer too large: more than \(maxBits) bits") }
        return r
    }

    static func + (a: BigInt, b: BigInt) -> BigInt {
        if a.negative == b.negative { return BigInt(limbs: addMagnitudes(a.limbs, b.limbs), negative: a.negative) }
        if compareMagnitudes(a.limbs, b.limbs) >= 0 { return BigInt(limbs: subtractMagnitudes(a.limbs, b.limbs), negative: a.negative) }
        return BigInt(limbs: subtractMagnitudes(b.limbs, a.limbs), negative: b.negative)
    }

    static prefix func - (a: BigInt) -> BigInt { BigInt(limbs: a.limbs, negative: !a.negative) }

    static func - (a: BigInt, b: BigInt) -> BigInt { a + (-b) }

    static func * (a: BigInt, b: BigInt) -> BigInt {
        BigInt(limbs: multiplyMagnitudes(a.limbs, b.limbs), negative: a.negative != b.negative)
    }

    /// Python's `a << n`.
    func shiftedLeft(_ n: Int) throws(OperationError) -> BigInt {
        if isZero { return self }
        if n > BigInt.maxBits { throw OperationError(.value, "integer too large: more than \(BigInt.maxBits) bits") }
        return try BigInt.checked(BigInt(limbs: BigInt.shiftLeftMagnitude(limbs, n), negative: negative))
    }

    /// Python's `a >> n`: floor division by 2^n.
    func shiftedRight(_ n: Int) -> BigInt {
        let (m, lost) = BigInt.shiftRightMagnitude(limbs, n)
        let r = BigInt(limbs: m, negative: negative)
        return negative && lost ? r - BigInt(1) : r
    }

    // MARK: Conversions

    /// Python's `float(int)`: correctly rounded (half to even), nil when it overflows.
    var double: Double? {
        let bits = bitWidth
        if bits <= 64 {
            var m: UInt64 = 0
            for (i, l) in limbs.enumerated() { m |= UInt64(l) << (32 * UInt64(i)) }
            let d = Double(m)
            return negative ? -d : d
        }
        // Keep 55 bits and a sticky bit, round to 53, scale.
        let shift = bits - 55
        let (top, lost) = BigInt.shiftRightMagnitude(limbs, shift)
        var m: UInt64 = 0
        for (i, l) in top.enumerated() { m |= UInt64(l) << (32 * UInt64(i)) }
        if lost { m |= 1 }
        // m has 55 bits: round away the low 2 bits, half to even.
        let low = m & 3
        m >>= 2
        if low > 2 || (low == 2 && m & 1 == 1) { m += 1 }
        let exponent = shift + 2
        if exponent + (64 - m.leadingZeroBitCount) > 1024 { return nil }
        let d = Double(sign: .plus, exponent: exponent, significand: Double(m))
        return negative ? -d : d
    }

    /// The exact integer value of a finite double (truncated toward zero) and whether a
    /// fraction was dropped: the sign of the fraction.
    static func fromDouble(_ d: Double) -> (BigInt, Double) {
        let t = d.rounded(.towardZero)
        let frac = d - t
        let m = Swift.abs(t)
        if m < 9_223_372_036_854_775_808.0 { return (BigInt(Int(t)), frac) }
        let e = Int(m.exponent) - 52
        let significand = Int(m.significandBitPattern | (1 << 52))
        let big = (try? BigInt(significand).shiftedLeft(e)) ?? BigInt(significand)
        return (t < 0 ? -big : big, frac)
    }

    public var description: String {
        if isZero { return "0" }
        var chunks: [UInt32] = []
        var m = limbs
        while !m.isEmpty {
            let (q, r) = BigInt.divideMagnitudes(m, [1_000_000_000])
            chunks.append(r.first ?? 0)
            m = q
        }
        var s = negative ? "-" : ""
        s += String(chunks.last!)
        for c in chunks.dropLast().reversed() {
            let d = String(c)
            s += String(repeating: "0", count: 9 - d.count) + d
        }
        return s
    }

    /// Parses digits in base 8, 10 or 16 (no sign, no prefix).
    static func parse(_ digits: [UInt32], base: UInt32) -> BigInt {
        var m: [UInt32] = []
        for d in digits {
            m = multiplyMagnitudes(m.isEmpty ? [] : m, [base])
            m = addMagnitudes(m, [d])
            m = BigInt(limbs: m, negative: false).limbs
        }
        return BigInt(limbs: m, negative: false)
    }
}

extension BigInt {
    static func compare(_ a: BigInt, _ b: BigInt) -> PythonOps.Order {
        if a.negative != b.negative { return a.negative ? .less : .greater }
        let c = compareMagnitudes(a.limbs, b.limbs)
        if c == 0 { return .equal }
        return (c < 0) != a.negative ? .less : .greater
    }

    /// Exact order of an integer and a finite or infinite double (nil for NaN).
    static func compare(_ a: BigInt, _ d: Double) -> PythonOps.Order? {
        if d.isNaN { return nil }
        if d.isInfinite { return d > 0 ? .less : .greater }
        let (t, frac) = fromDouble(d)
        let o = compare(a, t)
        if o != .equal { return o }
        return frac > 0 ? .less : (frac < 0 ? .greater : .equal)
    }

    /// Python's `a / b` for integers, correctly rounded (CPython `long_true_divide`).
    static func trueDivide(_ a: BigInt, _ b: BigInt) throws(OperationError) -> Double {
        precondition(!b.isZero)
        let negative = a.negative != b.negative
        if a.isZero { return negative ? -0.0 : 0.0 }
        let diff = a.bitWidth - b.bitWidth
        if diff > 1024 { throw OperationError(.value, "integer division result too large for a float") }
        if diff < -1021 - 53 - 1 { return negative ? -0.0 : 0.0 }
        let shift = max(diff, -1021) - 53 - 2
        var x: [UInt32]
        var inexact = false
        if shift <= 0 {
            x = shiftLeftMagnitude(a.limbs, -shift)
        } else {
            (x, inexact) = shiftRightMagnitude(a.limbs, shift)
        }
        let (q, r) = divideMagnitudes(BigInt(limbs: x, negative: false).limbs, b.limbs)
        inexact = inexact || !r.isEmpty
        var qv: UInt64 = 0
        for (i, l) in q.enumerated() { qv |= UInt64(l) << (32 * UInt64(i)) }
        let qBits = 64 - qv.leadingZeroBitCount
        let extra = max(qBits, -1021 - shift) - 53
        let mask: UInt64 = 1 << UInt64(extra - 1)
        var low = qv | (inexact ? 1 : 0)
        if low & mask != 0 && low & (3 * mask - 1) != 0 { low += mask }
        qv = low & ~(2 * mask - 1)
        let dx = Double(qv)
        if shift + qBits >= 1024 && (shift + qBits > 1024 || dx == Double(sign: .plus, exponent: qBits, significand: 1)) {
            throw OperationError(.value, "integer division result too large for a float")
        }
        let result = Double(sign: .plus, exponent: shift, significand: dx)
        return negative ? -result : result
    }
}
