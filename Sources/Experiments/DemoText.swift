import GuestKernel
import HostPolicies
import Hypervisor
import OvercommitSupport
import Simulation

/// Text rendering of demo steps for a plain terminal: no colour, no escape codes, ASCII bars.
public enum DemoText {
    /// Line width the narration is wrapped to.
    public static let width = 78
    /// Width of a VM bar in characters (the VM's configured memory).
    static let barWidth = 40

    static let barLegend = "# private  = shared  b ballooned  z compressed  s host-swapped  . not backed"

    /// Greedy word wrap; blank lines separate paragraphs.
    public static func wrap(_ text: String, width: Int, indent: String = "") -> [String] {
        var out: [String] = []
        for para in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if para.allSatisfy({ $0 == " " || $0 == "\t" }) { out.append(""); continue }
            var line = indent
            for word in para.split(separator: " ") {
                if line.count > indent.count && line.count + 1 + word.count > width {
                    out.append(line)
                    line = indent
                }
                line += (line.count > indent.count ? " " : "") + word
            }
            if line.count > indent.count { out.append(line) }
        }
        return out
    }

    /// Pages as MiB with one decimal.
    public static func mib(pages: Int) -> String { formatFixed(Double(pages) * 4 / 1024, 1) + " MiB" }
    /// kB as MiB with one decimal.
    public static func mib(kb: Int) -> String { formatFixed(Double(kb) / 1024, 1) + " MiB" }
    /// A signed change.
    static func signed(_ v: Int) -> String { v > 0 ? "+\(v)" : "\(v)" }

    static func renderStep(
        index: Int, count: Int, title: String, view: DemoView, narration: String,
        expectations: [DemoExpectation], script: DemoScript
    ) -> String {
        var lines: [String] = []
        let head = "--- Step \(index + 1) of \(count), t = \(view.seconds): \(title) "
        lines.append(head + String(repeating: "-", count: max(3, width - head.count)))
        lines.append("")
        lines += wrap(narration, width: width)
        lines.append("")
        lines += guestTable(view, counters: script.counters)
        if script.showHost {
            lines.append("")
            lines += hostView(view)
        }
        if !expectations.isEmpty {
            lines.append("")
            for e in expectations {
                let tag = e.holds ? "  [ok]     " : "  [FAILED] "
                let w = wrap(e.claim, width: width - tag.count)
                for (i, l) in w.enumerated() { lines.append((i == 0 ? tag : String(repeating: " ", count: tag.count)) + l) }
            }
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }

    /// Meminfo rows, host consumption and the demo's counters, one column per guest:
    /// the value now and, if it moved, its change during the step.
    static func guestTable(_ v: DemoView, counters: [DemoCounter]) -> [String] {
        let guests = v.now.guests
        let useKB = guests.count <= 2 && guests.allSatisfy { $0.configuredPages <= 65_536 }
        let unit = useKB ? "kB" : "MiB"
        func mem(_ kb: Int) -> String { useKB ? "\(kb)" : formatFixed(Double(kb) / 1024, 1) }
        func change(_ kb: Int) -> String {
            guard kb != 0 else { return "" }
            return useKB ? "(\(signed(kb)))" : "(" + (kb > 0 ? "+" : "") + formatFixed(Double(kb) / 1024, 1) + ")"
        }
        let rows: [(String, (DemoGuestState) -> Int)] = [
            ("MemFree", { $0.meminfo.MemFree }), ("Cached", { $0.meminfo.Cached }), ("AnonPages", { $0.meminfo.AnonPages }),
            ("Active(anon)", { $0.meminfo.ActiveAnon }), ("Inactive(anon)", { $0.meminfo.InactiveAnon }),
            ("Active(file)", { $0.meminfo.ActiveFile }), ("Inactive(file)", { $0.meminfo.InactiveFile }),
            ("SwapCached", { $0.meminfo.SwapCached }), ("Swap used", { $0.swapUsedKB }),
            ("Committed_AS", { $0.meminfo.Committed_AS }), ("CommitLimit", { $0.meminfo.CommitLimit }),
            ("Balloon", { $0.meminfo.Balloon }), ("host consumed", { $0.vm.consumed * 4 }),
        ]
        let labelW = 18
        let cellW = 20
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
        func cell(_ value: String, _ delta: String) -> String {
            let d = delta.isEmpty ? String(repeating: " ", count: 9) : " " + delta.padRight(8)
            return pad(value, cellW - 9) + (delta.count > 8 ? " " + delta : d)
        }
        var out: [String] = []
        out.append(
            "  " + "(\(unit))".padRight(labelW)
                + guests.map { cell("guest " + $0.name, "") }.joined())
        for (label, f) in rows {
            let line =
                "  " + label.padRight(labelW)
                + guests.map { g in
                    let b = v.before.guest(g.name)
                    return cell(mem(f(g)), change(f(g) - f(b)))
                }.joined()
            out.append(line)
        }
        for c in counters {
            let line =
                "  " + GuestCounters.handles[keyPath: c].name.padRight(labelW)
                + guests.map { g in
                    let b = v.before.guest(g.name)
                    let d = g.value(c) - b.value(c)
                    return cell("\(g.value(c))", d == 0 ? "" : "(\(signed(d)))")
                }.joined()
            out.append(line)
        }
        return out.map { String($0.reversed().drop { $0 == " " }.reversed()) }
    }

    /// The host's free memory and state, what each technique holds, and one bar per VM.
    static func hostView(_ v: DemoView) -> [String] {
        let h = v.now.host
        var out: [String] = []
        let stateChange = v.before.host.state != h.state ? " (was \(v.before.host.state.rawValue))" : ""
        let summary =
            "free \(mib(pages: h.free)) of \(mib(pages: v.now.hostTotalPages)), state \(h.state.rawValue)\(stateChange), "
            + "minFree \(mib(pages: h.minFree)); KSM pages_shared \(h.pagesShared) pages_sharing \(h.pagesSharing) "
            + "pages_unshared \(h.pagesUnshared) ksm_zero_pages \(h.zeroPagesSharing) full_scans \(h.fullScans); "
            + "ballooned \(mib(pages: h.ballooned)), compressed \(mib(pages: h.compressed)) in \(mib(pages: h.cacheFrames)), "
            + "host-swapped \(mib(pages: h.hostSwapped))"
        let indent = "        "
        for (i, l) in wrap(summary, width: width, indent: indent).enumerated() {
            out.append(i == 0 ? "  host: " + l.dropFirst(indent.count) : l)
        }
        let nameW = min(14, v.now.guests.map(\.name.count).max() ?? 0)
        for g in v.now.guests {
            out.append(
                "  " + g.name.padRight(nameW) + " [" + bar(g.vm) + "] consumed "
                    + mib(pages: g.vm.consumed))
        }
        return out
    }

    /// A bar of `barWidth` characters over the VM's configured memory, each technique's share
    /// by largest remainder so the parts add up to the width exactly.
    static func bar(_ s: VMHostSnapshot) -> String {
        let total = max(1, s.configured)
        let shared = s.shared
        let priv = s.privateFrames
        var parts = [("#", priv), ("=", shared), ("b", s.ballooned), ("z", s.compressed), ("s", s.hostSwapped)]
        let used = parts.reduce(0) { $0 + $1.1 }
        parts.append((".", max(0, total - used)))
        let sum = max(total, used)
        var counts = parts.map { $0.1 * barWidth / sum }
        var left = barWidth - counts.reduce(0, +)
        let order = parts.indices.sorted { a, b in
            let ra = parts[a].1 * barWidth % sum, rb = parts[b].1 * barWidth % sum
            return ra != rb ? ra > rb : a < b
        }
        for i in order where left > 0 && parts[i].1 > 0 { counts[i] += 1; left -= 1 }
        return zip(parts, counts).map { String(repeating: $0.0.0, count: $0.1) }.joined()
    }
}

extension String {
    /// The string followed by spaces up to `width` characters (cut to `width` if longer).
    func padRight(_ width: Int) -> String {
        count >= width ? String(prefix(width)) : self + String(repeating: " ", count: width - count)
    }
}
