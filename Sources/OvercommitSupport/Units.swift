/// Sizes, durations and percentages as scenario files write them (`8GiB`, `5ms`, `50%`).

/// A size in bytes. Decodes from an integer (bytes) or a string with a unit:
/// `B`, IEC `KiB MiB GiB TiB` (also `K M G T`, binary as `free` and QEMU read them),
/// or SI `kB KB MB GB TB` (powers of 1000).
public struct ByteCount: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var bytes: UInt64
    public init(_ bytes: UInt64) { self.bytes = bytes }
    public static func kib(_ n: UInt64) -> ByteCount { ByteCount(n << 10) }
    public static func mib(_ n: UInt64) -> ByteCount { ByteCount(n << 20) }
    public static func gib(_ n: UInt64) -> ByteCount { ByteCount(n << 30) }
    public static func tib(_ n: UInt64) -> ByteCount { ByteCount(n << 40) }
    /// Whole 4 KiB pages (rounded down).
    public var pages: Int { Int(bytes >> 12) }
    public static func pages(_ n: Int) -> ByteCount { ByteCount(UInt64(n) << 12) }
    public static func < (a: ByteCount, b: ByteCount) -> Bool { a.bytes < b.bytes }

    /// Parses `"8GiB"`, `"512 MiB"`, `"4096"`, `"1.5GiB"`.
    public static func parse(_ text: String) -> ByteCount? {
        let (num, unit) = splitNumber(text)
        guard let value = num, value >= 0 else { return nil }
        let mult: Double
        switch unit {
        case "", "B", "b": mult = 1
        case "KiB", "K", "k", "Ki": mult = 1024
        case "MiB", "M", "Mi": mult = 1024 * 1024
        case "GiB", "G", "Gi": mult = 1024 * 1024 * 1024
        case "TiB", "T", "Ti": mult = 1024.0 * 1024 * 1024 * 1024
        case "kB", "KB": mult = 1000
        case "MB": mult = 1e6
        case "GB": mult = 1e9
        case "TB": mult = 1e12
        default: return nil
        }
        let b = value * mult
        guard b < 1.8e19, b == b.rounded(.down) || unit != "" else { return nil }
        return ByteCount(UInt64(b.rounded(.down)))
    }

    /// Shortest exact IEC form: `8GiB`, `1536MiB`, `4KiB`, `100B`.
    public var description: String {
        let units: [(UInt64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (m, u) in units where bytes >= m && bytes % m == 0 { return "\(bytes / m)\(u)" }
        return "\(bytes)B"
    }

    public static func human(_ b: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = b, i = 0
        while abs(v) >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(Int(v)) B" : "\(formatFixed(v, 1)) \(units[i])"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(UInt64.self) { self.bytes = n; return }
        let s = try c.decode(String.self)
        guard let v = ByteCount.parse(s) else {
            throw DecodingError.dataCorruptedError(
                in: c,
                debugDescription:
                    "'\(s)' is not a size; write bytes or a number with a unit: B, KiB, MiB, GiB, TiB (binary) or kB, MB, GB, TB (decimal), e.g. 8GiB")
        }
        self = v
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A simulated duration in integer nanoseconds. Decodes from a string with a unit
/// (`ns`, `us`/`µs`, `ms`, `s`, `min`, `h`) or a bare number of seconds.
public struct SimDuration: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var nanoseconds: Int64
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public static func ns(_ n: Int64) -> SimDuration { SimDuration(nanoseconds: n) }
    public static func us(_ n: Int64) -> SimDuration { SimDuration(nanoseconds: n * 1_000) }
    public static func ms(_ n: Int64) -> SimDuration { SimDuration(nanoseconds: n * 1_000_000) }
    public static func seconds(_ n: Int64) -> SimDuration { SimDuration(nanoseconds: n * 1_000_000_000) }
    public var seconds: Double { Double(nanoseconds) / 1e9 }
    public static func < (a: SimDuration, b: SimDuration) -> Bool { a.nanoseconds < b.nanoseconds }

    public static func parse(_ text: String) -> SimDuration? {
        let (num, unit) = splitNumber(text)
        guard let v = num, v >= 0 else { return nil }
        let mult: Double
        switch unit {
        case "ns": mult = 1
        case "us", "µs", "μs": mult = 1e3
        case "ms": mult = 1e6
        case "s", "", "sec": mult = 1e9
        case "min", "m": mult = 60e9
        case "h": mult = 3600e9
        default: return nil
        }
        let ns = v * mult
        guard ns < 9e18 else { return nil }
        return SimDuration(nanoseconds: Int64(ns.rounded()))
    }

    /// Shortest exact form: `5ms`, `100us`, `30s`, `1500ns`.
    public var description: String {
        let n = nanoseconds
        if n == 0 { return "0s" }
        let units: [(Int64, String)] = [(3_600_000_000_000, "h"), (60_000_000_000, "min"), (1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "us")]
        for (m, u) in units where abs(n) >= m && n % m == 0 { return "\(n / m)\(u)" }
        return "\(n)ns"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            guard let v = SimDuration.parse(s) else {
                throw DecodingError.dataCorruptedError(
                    in: c,
                    debugDescription:
                        "'\(s)' is not a duration; write a number with a unit: ns, us, ms, s, min, h, e.g. 100us or 30s")
            }
            self = v; return
        }
        let secs = try c.decode(Double.self)
        guard secs >= 0 else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "a duration cannot be negative")
        }
        self.nanoseconds = Int64((secs * 1e9).rounded())
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A fraction written as a percentage: `"50%"` or a bare number `50` both mean one half.
public struct Percentage: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The value as a fraction (0.5 for 50 %).
    public var fraction: Double
    public init(fraction: Double) { self.fraction = fraction }
    public init(percent: Double) { self.fraction = percent / 100 }
    public var percent: Double { fraction * 100 }
    public static func < (a: Percentage, b: Percentage) -> Bool { a.fraction < b.fraction }

    public static func parse(_ text: String) -> Percentage? {
        var t = text.trimmingSpaces()
        if t.hasSuffix("%") { t.removeLast() }
        guard let v = Double(t.trimmingSpaces()), v.isFinite else { return nil }
        return Percentage(percent: v)
    }

    public var description: String { "\(formatShortest(percent))%" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let d = try? c.decode(Double.self) { self.fraction = d / 100; return }
        let s = try c.decode(String.self)
        guard let v = Percentage.parse(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(s)' is not a percentage; write e.g. 50% or 50")
        }
        self = v
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

// MARK: - Small formatting helpers (no Foundation, deterministic)

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

func splitNumber(_ text: String) -> (Double?, String) {
    let t = text.trimmingSpaces()
    var numEnd = t.startIndex
    for i in t.indices {
        let ch = t[i]
        if ch.isNumber || ch == "." || (i == t.startIndex && (ch == "-" || ch == "+")) || ch == "_" { numEnd = t.index(after: i) } else { break }
    }
    let numPart = t[t.startIndex..<numEnd].filter { $0 != "_" }
    let unit = String(t[numEnd...]).trimmingSpaces()
    return (Double(numPart), unit)
}

/// Formats a double with a fixed number of decimals, deterministically (no locale).
public func formatFixed(_ v: Double, _ decimals: Int) -> String {
    if !v.isFinite { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let r = (abs(v) * scale).rounded()
    let neg = v < 0 && r != 0
    let whole = UInt64(r / scale)
    var s = neg ? "-\(whole)" : "\(whole)"
    if decimals > 0 {
        let frac = UInt64(r - Double(whole) * scale)
        var fs = "\(frac)"
        while fs.count < decimals { fs = "0" + fs }
        s += "." + fs
    }
    return s
}

/// Shortest round-trip form for a double, integers without a decimal point.
public func formatShortest(_ v: Double) -> String {
    if v.isFinite && v == v.rounded() && abs(v) < 1e15 { return "\(Int64(v))" }
    return "\(v)"
}
