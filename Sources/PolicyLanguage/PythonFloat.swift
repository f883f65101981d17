/// Python's float behaviour where it differs from a plain conversion: `repr`, int / int true
/// division, and exact comparison of an int with a float (CPython `Objects/floatobject.c`
/// `float_repr` and `float_richcompare`, `Objects/longobject.c` `long_true_divide`).
enum PythonFloat {
    /// Python's `repr(x)` (also its `str(x)`): the shortest digits that read back as `x`, in
    /// fixed notation when the decimal exponent is in -4 ..< 16 (`0.0001`, `1e-05`,
    /// `1000000000000000.0`, `1e+16`), `inf`, `-inf`, `nan`.
    static func repr(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        let negative = x.sign == .minus
        // Swift's description gives the shortest round-trip digits (as Python's repr does);
        // only the layout differs. Read the digits and the decimal exponent from it.
        var text = Swift.abs(x).description
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = String(parts[0]), fracPart = parts.count > 1 ? String(parts[1]) : ""
        var digits = Array(intPart + fracPart)
        var decpt = intPart.count + exponent
        while let f = digits.first, f == "0" { digits.removeFirst(); decpt -= 1 }
        while let l = digits.last, l == "0" { digits.removeLast() }
        let sign = negative ? "-" : ""
        if digits.isEmpty { return sign + "0.0" }
        let d = String(digits)
        if decpt <= -4 || decpt > 16 {
            var s = String(digits[0])
            if digits.count > 1 { s += "." + String(digits[1...]) }
            let e = decpt - 1
            let mag = Swift.abs(e)
            return sign + s + "e" + (e < 0 ? "-" : "+") + (mag < 10 ? "0" : "") + String(mag)
        }
        if decpt <= 0 { return sign + "0." + String(repeating: "0", count: -decpt) + d }
        if decpt >= digits.count { return sign + d + String(repeating: "0", count: decpt - digits.count) + ".0" }
        return sign + String(digits[..<decpt]) + "." + String(digits[decpt...])
    }

    /// `a / b` for integers, correctly rounded (round half to even) as CPython's
    /// `long_true_divide` does; a plain `Double(a) / Double(b)` is wrong when an operand
    /// needs more than 53 bits. `b` must not be 0.
    static func trueDivide(_ a: Int, _ b: Int) -> Double {
        precondition(b != 0)
        let negative = (a < 0) != (b < 0)
        let am = UInt64(a.magnitude), bm = UInt64(b.magnitude)
        if am == 0 { return negative ? -0.0 : 0.0 }
        let limit: UInt64 = 1 << 53
        if am <= limit && bm <= limit {
            let q = Double(am) / Double(bm)
            return negative ? -q : q
        }
        // Scale a so the quotient has 54 or 55 bits, divide exactly, then round to 53 bits
        // with the remainder as a sticky bit.
        let aBits = 64 - am.leadingZeroBitCount, bBits = 64 - bm.leadingZeroBitCount
        let shift = (aBits - bBits) - 53 - 2
        var inexact = false
        var q: UInt64
        if shift <= 0 {
            let s = -shift
            let hi: UInt64, lo: UInt64
            if s == 0 { hi = 0; lo = am } else if s < 64 { hi = am >> UInt64(64 - s); lo = am << UInt64(s) } else { hi = am << UInt64(s - 64); lo = 0 }
            let (quotient, remainder) = bm.dividingFullWidth((high: hi, low: lo))
            q = quotient
            inexact = remainder != 0
        } else {
            let x = am >> UInt64(shift)
            inexact = am & ((1 << UInt64(shift)) - 1) != 0
            q = x / bm
            inexact = inexact || x % bm != 0
        }
        let qBits = 64 - q.leadingZeroBitCount
        let extra = qBits - 53
        let mask: UInt64 = 1 << UInt64(extra - 1)
        var low = q | (inexact ? 1 : 0)
        if low & mask != 0 && low & (3 * mask - 1) != 0 { low += mask }
        q = low & ~(2 * mask - 1)
        let r = Double(sign: .plus, exponent: shift, significand: Double(q))
        return negative ? -r : r
    }

    /// Exact order of an integer and a float (nil when the float is NaN), as Python compares
    /// them: `9007199254740993 == 9007199254740992.0` is false.
    static func compare(_ i: Int, _ d: Double) -> PythonOps.Order? {
        if d.isNaN { return nil }
        if d >= 9_223_372_036_854_775_808.0 { return .less }
        if d < -9_223_372_036_854_775_808.0 { return .greater }
        let t = d.rounded(.towardZero)
        let ti = Int(t)
        if i < ti { return .less }
        if i > ti { return .greater }
        let frac = d - t
        return frac > 0 ? .less : (frac < 0 ? .greater : .equal)
    }
}
