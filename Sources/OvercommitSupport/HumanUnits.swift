/// Figures as people read them on a console or a page: binary units chosen by magnitude and
/// three significant digits (`512GiB`, `87.8MiB`, `1.46GiB`, `184ns`, `2.76us`), as `free -h`
/// and esxtop print them. Machine-readable files never use these (docs/outputs.md).
public enum HumanUnits {
    /// `v` with `digits` significant digits, trailing zeros after the point dropped.
    public static func significant(_ v: Double, digits: Int = 3) -> String {
        guard v.isFinite else { return formatFixed(v, 0) }
        if v == 0 { return "0" }
        var magnitude = 0
        var a = abs(v)
        while a >= 10 { a /= 10; magnitude += 1 }
        while a < 1 { a *= 10; magnitude -= 1 }
        var s = formatFixed(v, max(0, digits - 1 - magnitude))
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    /// Memory given in KiB, in the largest binary unit (KiB .. TiB) it reaches: `552MiB`,
    /// `1.46GiB`, `0B`; `separator` goes between the number and the unit.
    public static func memory(kilobytes kb: Double, separator: String = "") -> String {
        guard kb.isFinite else { return formatFixed(kb, 0) }
        if kb == 0 { return "0" + separator + "B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
        var v = kb, i = 0
        while abs(v) >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        // 1023.9 MiB rounds to "1020MiB", never to "1024MiB".
        return significant(v) + separator + units[i]
    }

    /// A duration given in seconds, in s, ms, us or ns: `20s`, `30.1ms`, `184ns`.
    public static func duration(seconds s: Double) -> String {
        guard s.isFinite else { return formatFixed(s, 0) }
        let a = abs(s)
        if a == 0 { return "0s" }
        if a >= 1 { return significant(s) + "s" }
        if a >= 1e-3 { return significant(s * 1e3) + "ms" }
        if a >= 1e-6 { return significant(s * 1e6) + "us" }
        return significant(s * 1e9) + "ns"
    }
}
