import OvercommitSupport

/// A time-series chart drawn as static SVG (no script): axes with ticks and units, a title,
/// a legend, lines or stacked areas, optional background bands (the host's free-memory
/// states), horizontal levels (minFree thresholds) and vertical markers (OOM kills).
///
/// Drawn the way gnuplot or matplotlib draw a static figure: every coordinate is computed
/// here and written with fixed decimals, so the same data give the same bytes.
public struct SVGChart: Sendable {
    /// How the series are drawn.
    public enum Style: Sendable { case lines, stackedAreas }

    /// The y axis: memory in kB (shown in KiB, MiB or GiB, whichever reads best), a linear
    /// quantity with its unit, or a logarithmic one (ratios such as slowdown, ≥ 1).
    public enum YAxis: Sendable, Equatable {
        case memoryKB
        /// Memory in kB on a logarithmic scale (in KiB, MiB or GiB): for free memory, which
        /// spans gigabytes down to the megabytes of ESXi's state thresholds.
        case logMemoryKB
        case linear(unit: String)
        case log(unit: String)
    }

    public struct Series: Sendable {
        public var name: String
        public var color: String
        public var values: [Double]
        public var dashed: Bool
        /// Half-widths of an error bar at each point (a 95 % confidence interval), or nil.
        public var errors: [Double]?
        public init(_ name: String, color: String, values: [Double], dashed: Bool = false, errors: [Double]? = nil) {
            self.name = name; self.color = color; self.values = values; self.dashed = dashed; self.errors = errors
        }
    }

    /// A background band over [x0, x1) (seconds).
    public struct Band: Sendable { public var x0, x1: Double; public var color: String }
    /// A horizontal reference line at `value` (in the series' unit, kB for memory).
    public struct Level: Sendable {
        public var value: Double; public var label: String; public var color: String
        public init(value: Double, label: String, color: String) { self.value = value; self.label = label; self.color = color }
    }
    /// A vertical line at `x` seconds (an event).
    public struct Marker: Sendable {
        public var x: Double; public var label: String; public var color: String
        /// The label's line from the top (1: one line lower, so neighbouring markers' labels do not collide).
        public var labelRow = 0
        public init(x: Double, label: String, color: String, labelRow: Int = 0) {
            self.x = x; self.label = label; self.color = color; self.labelRow = labelRow
        }
    }
    /// A legend entry that is not a series (band colors, markers).
    public struct LegendEntry: Sendable {
        public var name: String; public var color: String; public var kind: Kind
        public enum Kind: Sendable { case area, line, dashed, band }
    }

    public var title: String
    public var style: Style
    public var yAxis: YAxis
    /// Sampling instants (seconds), shared by every series.
    public var xs: [Double]
    /// The end of the x axis (the run's duration), at least the last sample.
    public var xMax: Double
    public var series: [Series]
    public var bands: [Band] = []
    public var levels: [Level] = []
    public var markers: [Marker] = []
    public var extraLegend: [LegendEntry] = []
    public var width = 920.0
    public var height = 300.0
    /// At most this many points per series are drawn (evenly chosen, first and last kept).
    public var maxPoints = 800
    /// Caps the y axis (in the series' unit, kB for memory) to zoom on low values; values
    /// above it are drawn at the top edge.
    public var yCeiling: Double? = nil
    /// The x axis' name (time for a run; a swept key or the number of VMs for experiments).
    public var xLabel = "simulated time (s)"
    /// Names of the x positions 0, 1, 2, ... when x is not a number (a swept key's values).
    public var xCategories: [String]? = nil
    /// Whether to mark each point with a dot (experiments, where points are few).
    public var dots = false
    /// The start of the x axis (0 for time; below the first value for experiments).
    public var xMin = 0.0
    /// The smallest step between x ticks (1 when x counts things, such as VMs).
    public var xStepMin = 0.0

    public init(title: String, style: Style, yAxis: YAxis, xs: [Double], xMax: Double, series: [Series]) {
        self.title = title; self.style = style; self.yAxis = yAxis; self.xs = xs
        self.xMax = max(xMax, xs.last ?? 0); self.series = series
    }

    static let left = 72.0, right = 20.0, top = 34.0, axisBelow = 40.0
    static let legendRow = 20.0

    /// The memory unit that suits the largest value (kB in, label and divisor out).
    static func memoryUnit(maxKB: Double) -> (label: String, divisor: Double) {
        if maxKB >= 2 * 1024 * 1024 { return ("GiB", 1024 * 1024) }
        if maxKB >= 2 * 1024 { return ("MiB", 1024) }
        return ("KiB", 1)
    }

    /// A 1-2-5 step close to `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        var p = 1.0
        while p * 10 <= raw { p *= 10 }
        while p > raw { p /= 10 }
        let f = raw / p
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p
    }

    /// Decimals needed to print multiples of `step` exactly enough.
    static func decimals(for step: Double) -> Int {
        var d = 0
        var s = step
        while s < 1 && d < 6 { s *= 10; d += 1 }
        return d
    }

    /// Formats a number for a tick label without trailing zeros.
    static func label(_ v: Double, decimals: Int) -> String {
        var s = formatFixed(v, decimals)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s == "-0" ? "0" : s
    }

    static func coord(_ v: Double) -> String { formatFixed(v, 1) }

    /// Evenly spread indices into `n` samples, at most `limit`, first and last included.
    static func sampledIndices(_ n: Int, limit: Int) -> [Int] {
        guard n > limit, limit >= 2 else { return Array(0..<n) }
        var out: [Int] = []
        for k in 0..<limit { out.append(Int((Double(k) * Double(n - 1) / Double(limit - 1)).rounded())) }
        return out
    }

    /// Legend entries in drawing order.
    var legend: [LegendEntry] {
        series.map { LegendEntry(name: $0.name, color: $0.color, kind: style == .stackedAreas ? .area : ($0.dashed ? .dashed : .line)) }
            + (levels.count > 2 ? levels.map { LegendEntry(name: $0.label, color: $0.color, kind: .dashed) } : [])
            + extraLegend
    }

    /// Lays the legend out in rows; returns (x, row) per entry and the row count.
    func legendLayout() -> (positions: [(x: Double, row: Int)], rows: Int) {
        var x = Self.left, row = 0
        var out: [(Double, Int)] = []
        for e in legend {
            let w = 26 + Double(e.name.count) * 6.6 + 18
            if x + w > width - Self.right && x > Self.left { x = Self.left; row += 1 }
            out.append((x, row))
            x += w
        }
        return (out, legend.isEmpty ? 0 : row + 1)
    }

    /// The SVG element (with its width and height; scales down with CSS max-width).
    public func render() -> String {
        let (legendPos, legendRows) = legendLayout()
        let totalH = height + Double(legendRows) * Self.legendRow + (legendRows > 0 ? 12 : 0)
        let plotL = Self.left, plotT = Self.top
        let plotW = width - Self.left - Self.right
        let plotH = height - Self.top - Self.axisBelow
        let n = xs.count
        let idx = Self.sampledIndices(n, limit: maxPoints)

        // Cumulative values for stacked areas.
        var tops: [[Double]] = []
        if style == .stackedAreas {
            var acc = [Double](repeating: 0, count: n)
            for s in series {
                for i in 0..<n { acc[i] += max(0, i < s.values.count ? s.values[i] : 0) }
                tops.append(acc)
            }
        }
        var dataMax = 0.0, dataMin = Double.infinity
        for s in series { for v in s.values where v.isFinite { dataMax = max(dataMax, v); dataMin = min(dataMin, v) } }
        for s in series {
            guard let e = s.errors else { continue }
            for (v, h) in zip(s.values, e) where v.isFinite && h.isFinite { dataMax = max(dataMax, v + h) }
        }
        if let last = tops.last { for v in last { dataMax = max(dataMax, v) } }
        for l in levels { dataMax = max(dataMax, l.value) }
        // The smallest positive value (a log axis starts at the decade below it).
        var positiveMin = Double.infinity
        for s in series { for v in s.values where v.isFinite && v > 0 { positiveMin = min(positiveMin, v) } }
        for l in levels where l.value > 0 { positiveMin = min(positiveMin, l.value) }
        if let c = yCeiling, c > 0 { dataMax = min(dataMax, c) }

        // Y scale.
        var unitLabel: String
        var divisor = 1.0
        var yMin = 0.0, yMax: Double
        var ticks: [Double] = []
        var tickDecimals = 0
        let isLog: Bool
        switch yAxis {
        case .memoryKB:
            let u = dataMax > 0 ? Self.memoryUnit(maxKB: dataMax) : (label: "MiB", divisor: 1024.0)
            unitLabel = u.label; divisor = u.divisor; isLog = false
        case .logMemoryKB:
            let u = dataMax > 0 ? Self.memoryUnit(maxKB: dataMax) : (label: "MiB", divisor: 1024.0)
            unitLabel = u.label + " (log scale)"; divisor = u.divisor; isLog = true
        case .linear(let unit): unitLabel = unit; isLog = false
        case .log(let unit): unitLabel = unit; isLog = true
        }
        if isLog {
            // Ticks at 1, 2, 5 × powers of ten (in the axis unit) from the bottom decade: 1 for
            // ratios and rates, the decade below the smallest value for memory (at most six
            // decades below the top; values under the bottom are drawn on it).
            var low = 1.0
            if yAxis == .logMemoryKB {
                let smallest = positiveMin.isFinite ? positiveMin / divisor : 1
                let top = max(dataMax / divisor, 1e-9)
                while low > smallest { low /= 10 }
                while low * 10 <= smallest { low *= 10 }
                while low * 1e6 < top { low *= 10 }
            }
            var hi = low
            let top = max(dataMax / divisor, low)
            let steps = [1.0, 2.0, 5.0]
            var decade = low
            outer: while true {
                for m in steps where m * decade >= top * 1.0001 { hi = m * decade; break outer }
                decade *= 10
                if decade > 1e12 * low { hi = decade; break }
            }
            if hi < 2 * low { hi = 2 * low }
            decade = low
            while decade <= hi {
                for m in steps where m * decade <= hi * 1.0001 { ticks.append(m * decade) }
                decade *= 10
            }
            if ticks.count > 10 { ticks = ticks.filter { isPowerOf10($0 / low) } }
            tickDecimals = Self.decimals(for: low)
            yMin = low * divisor
            yMax = hi * divisor
        } else {
            let top = dataMax > 0 ? dataMax / divisor : 1
            let step = Self.niceStep(top / 5)
            yMax = max(step, (top / step).rounded(.up) * step)
            if yMax < top * 1.0001 { yMax += step }
            var t = 0.0
            while t <= yMax * 1.0001 { ticks.append(t); t += step }
            tickDecimals = Self.decimals(for: step)
            yMax *= divisor
        }
        func py(_ v: Double) -> Double {
            if isLog {
                let c = min(max(v, yMin), yMax)
                return plotT + plotH - (naturalLog(c) - naturalLog(yMin)) / (naturalLog(yMax) - naturalLog(yMin)) * plotH
            }
            return plotT + plotH - (min(max(v, yMin), yMax) - yMin) / (yMax - yMin) * plotH
        }
        let x0 = xCategories == nil ? xMin : -0.5
        let x1 = xCategories.map { Double($0.count) - 0.5 } ?? xMax
        let xSpan = x1 > x0 ? x1 - x0 : 1
        func px(_ t: Double) -> Double { plotL + min(max(t - x0, 0), xSpan) / xSpan * plotW }

        var s = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.coord(width))\" height=\"\(Self.coord(totalH))\" "
        s += "viewBox=\"0 0 \(Self.coord(width)) \(Self.coord(totalH))\" role=\"img\" aria-label=\"\(HTMLReport.escape(title))\">\n"
        s += "<title>\(HTMLReport.escape(title))</title>\n"
        s += "<text class=\"chart-title\" x=\"\(Self.coord(plotL))\" y=\"20\">\(HTMLReport.escape(title))</text>\n"
        // Bands.
        for b in bands where b.x1 > b.x0 {
            let x0 = px(b.x0), x1 = px(b.x1)
            s +=
                "<rect class=\"band\" x=\"\(Self.coord(x0))\" y=\"\(Self.coord(plotT))\" width=\"\(Self.coord(max(0.5, x1 - x0)))\" height=\"\(Self.coord(plotH))\" fill=\"\(b.color)\"/>\n"
        }
        // Grid and y ticks.
        s += "<g class=\"axis y\">\n"
        for t in ticks {
            let y = py(t * divisor)
            s += "<line class=\"grid\" x1=\"\(Self.coord(plotL))\" y1=\"\(Self.coord(y))\" x2=\"\(Self.coord(plotL + plotW))\" y2=\"\(Self.coord(y))\"/>"
            s += "<text x=\"\(Self.coord(plotL - 6))\" y=\"\(Self.coord(y + 4))\" text-anchor=\"end\">\(Self.label(t, decimals: tickDecimals))</text>\n"
        }
        s +=
            "<text class=\"unit\" transform=\"translate(14 \(Self.coord(plotT + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(HTMLReport.escape(unitLabel))</text>\n"
        s += "</g>\n"
        // X ticks: every category, or 1-2-5 steps over the span.
        var xTicks: [(at: Double, label: String)] = []
        if let cats = xCategories {
            xTicks = cats.enumerated().map { (Double($0.offset), $0.element) }
        } else {
            let xStep = max(Self.niceStep(xSpan / 8), xStepMin)
            let xDec = Self.decimals(for: xStep)
            var t = (x0 / xStep).rounded(.up) * xStep
            while t <= x1 + xSpan * 0.0001 { xTicks.append((t, Self.label(t, decimals: xDec))); t += xStep }
        }
        s += "<g class=\"axis x\">\n"
        for (t, label) in xTicks {
            let x = px(t)
            s +=
                "<line class=\"tick\" x1=\"\(Self.coord(x))\" y1=\"\(Self.coord(plotT + plotH))\" x2=\"\(Self.coord(x))\" y2=\"\(Self.coord(plotT + plotH + 5))\"/>"
            s += "<text x=\"\(Self.coord(x))\" y=\"\(Self.coord(plotT + plotH + 18))\" text-anchor=\"middle\">\(HTMLReport.escape(label))</text>\n"
        }
        s +=
            "<text class=\"unit\" x=\"\(Self.coord(plotL + plotW / 2))\" y=\"\(Self.coord(plotT + plotH + 34))\" text-anchor=\"middle\">\(HTMLReport.escape(xLabel))</text>\n"
        s += "</g>\n"

        // Frame, under the data so a line at zero stays visible.
        s +=
            "<rect class=\"frame\" x=\"\(Self.coord(plotL))\" y=\"\(Self.coord(plotT))\" width=\"\(Self.coord(plotW))\" height=\"\(Self.coord(plotH))\" fill=\"none\"/>\n"
        // Data.
        s += "<g class=\"data\">\n"
        if n > 0 {
            switch style {
            case .stackedAreas:
                for (k, se) in series.enumerated() {
                    let upper = tops[k]
                    let lower = k == 0 ? [Double](repeating: 0, count: n) : tops[k - 1]
                    var d = ""
                    for (j, i) in idx.enumerated() { d += (j == 0 ? "M" : "L") + Self.coord(px(xs[i])) + "," + Self.coord(py(upper[i])) }
                    for i in idx.reversed() { d += "L" + Self.coord(px(xs[i])) + "," + Self.coord(py(lower[i])) }
                    d += "Z"
                    s +=
                        "<path class=\"series area\" d=\"\(d)\" fill=\"\(se.color)\" fill-opacity=\"0.85\" stroke=\"none\"><title>\(HTMLReport.escape(se.name))</title></path>\n"
                }
            case .lines:
                for se in series {
                    // A value that is not finite (the report lists it as skipped) leaves a gap.
                    var d = ""
                    var penDown = false
                    for i in idx where i < se.values.count {
                        let v = se.values[i]
                        guard v.isFinite else { penDown = false; continue }
                        d += (penDown ? "L" : "M") + Self.coord(px(xs[i])) + "," + Self.coord(py(v))
                        penDown = true
                    }
                    if idx.count == 1 { d += "l0.1,0" }
                    let dash = se.dashed ? " stroke-dasharray=\"6 4\"" : ""
                    s +=
                        "<path class=\"series line\" d=\"\(d)\" fill=\"none\" stroke=\"\(se.color)\" stroke-width=\"2\"\(dash)><title>\(HTMLReport.escape(se.name))</title></path>\n"
                    // Error bars (whiskers with caps) and dots at the points.
                    if let errors = se.errors {
                        var e = ""
                        for i in idx where i < se.values.count && i < errors.count {
                            let v = se.values[i], h = errors[i]
                            guard v.isFinite, h.isFinite, h > 0 else { continue }
                            let x = px(xs[i]), yLo = py(v - h), yHi = py(v + h)
                            e += "M" + Self.coord(x) + "," + Self.coord(yLo) + "L" + Self.coord(x) + "," + Self.coord(yHi)
                            e += "M" + Self.coord(x - 4) + "," + Self.coord(yLo) + "L" + Self.coord(x + 4) + "," + Self.coord(yLo)
                            e += "M" + Self.coord(x - 4) + "," + Self.coord(yHi) + "L" + Self.coord(x + 4) + "," + Self.coord(yHi)
                        }
                        if !e.isEmpty {
                            s +=
                                "<path class=\"errorbar\" d=\"\(e)\" fill=\"none\" stroke=\"\(se.color)\" stroke-width=\"1.3\"><title>\(HTMLReport.escape(se.name)): 95 % confidence interval</title></path>\n"
                        }
                    }
                    if dots {
                        for i in idx where i < se.values.count && se.values[i].isFinite {
                            s += "<circle class=\"dot\" cx=\"\(Self.coord(px(xs[i])))\" cy=\"\(Self.coord(py(se.values[i])))\" r=\"3\" fill=\"\(se.color)\"/>"
                        }
                        s += "\n"
                    }
                }
            }
        }
        s += "</g>\n"
        // Levels and markers on top of the data.
        // With one or two levels the label sits at the line's right end; more levels (the
        // minFree thresholds) are named in the legend instead, so labels never pile up.
        for l in levels {
            let y = py(l.value)
            s +=
                "<g class=\"level\"><line x1=\"\(Self.coord(plotL))\" y1=\"\(Self.coord(y))\" x2=\"\(Self.coord(plotL + plotW))\" y2=\"\(Self.coord(y))\" stroke=\"\(l.color)\" stroke-width=\"1.2\" stroke-dasharray=\"3 3\"/>"
            if levels.count <= 2 {
                s +=
                    "<text x=\"\(Self.coord(plotL + plotW - 4))\" y=\"\(Self.coord(y - 3))\" text-anchor=\"end\" fill=\"\(l.color)\">\(HTMLReport.escape(l.label))</text>"
            }
            s += "</g>\n"
        }
        for m in markers {
            let x = px(m.x)
            s +=
                "<g class=\"marker\"><line x1=\"\(Self.coord(x))\" y1=\"\(Self.coord(plotT))\" x2=\"\(Self.coord(x))\" y2=\"\(Self.coord(plotT + plotH))\" stroke=\"\(m.color)\" stroke-width=\"1.5\"/>"
            // Labels near the right edge go on the line's left.
            let leftOfLine = x > plotL + plotW * 0.8
            s +=
                "<text x=\"\(Self.coord(leftOfLine ? x - 3 : x + 3))\" y=\"\(Self.coord(plotT + 11 + 14 * Double(m.labelRow)))\"\(leftOfLine ? " text-anchor=\"end\"" : "") fill=\"\(m.color)\">\(HTMLReport.escape(m.label))</text></g>\n"
        }
        if n > 0 && dataMax == 0 {
            s +=
                "<text class=\"empty\" x=\"\(Self.coord(plotL + plotW / 2))\" y=\"\(Self.coord(plotT + plotH / 2))\" text-anchor=\"middle\">all zero during the run</text>\n"
        }
        if n == 0 {
            s +=
                "<text class=\"empty\" x=\"\(Self.coord(plotL + plotW / 2))\" y=\"\(Self.coord(plotT + plotH / 2))\" text-anchor=\"middle\">no samples</text>\n"
        }
        // Legend.
        s += "<g class=\"legend\">\n"
        for (e, p) in zip(legend, legendPos) {
            let y = height + 12 + Double(p.row) * Self.legendRow
            switch e.kind {
            case .area, .band:
                let stroke = e.kind == .band ? " stroke=\"#999\" stroke-width=\"0.5\"" : ""
                s += "<rect x=\"\(Self.coord(p.x))\" y=\"\(Self.coord(y - 9))\" width=\"18\" height=\"11\" fill=\"\(e.color)\"\(stroke)/>"
            case .line, .dashed:
                let dash = e.kind == .dashed ? " stroke-dasharray=\"6 4\"" : ""
                s +=
                    "<line x1=\"\(Self.coord(p.x))\" y1=\"\(Self.coord(y - 4))\" x2=\"\(Self.coord(p.x + 18))\" y2=\"\(Self.coord(y - 4))\" stroke=\"\(e.color)\" stroke-width=\"2.5\"\(dash)/>"
            }
            s += "<text x=\"\(Self.coord(p.x + 24))\" y=\"\(Self.coord(y))\">\(HTMLReport.escape(e.name))</text>\n"
        }
        s += "</g>\n</svg>"
        return s
    }
}

func isPowerOf10(_ v: Double) -> Bool {
    guard v >= 1 else { return false }
    var p = 1.0
    while p < v { p *= 10 }
    return abs(p - v) < 1e-9 * v
}
