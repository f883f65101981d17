/// Named statistics in gem5's `stats.txt` spirit: name, value, unit, description.

/// One statistic.
public struct Statistic: Sendable, Equatable {
    public var name: String
    public var value: Double
    public var unit: String
    public var summary: String
    public init(_ name: String, _ value: Double, unit: String, _ summary: String) {
        self.name = name; self.value = value; self.unit = unit; self.summary = summary
    }
    public init(_ name: String, _ value: Int, unit: String, _ summary: String) {
        self.init(name, Double(value), unit: unit, summary)
    }
    /// Integers print without a decimal point; other values with six significant decimals.
    public var formattedValue: String {
        value == value.rounded() && abs(value) < 1e15 ? "\(Int64(value))" : formatFixed(value, 6)
    }
}

/// An ordered list of statistics (order is the order of insertion, never hash order).
public struct StatisticsBlock: Sendable {
    public private(set) var entries: [Statistic] = []
    public init() {}
    public mutating func add(_ s: Statistic) { entries.append(s) }
    public mutating func add(_ name: String, _ value: Int, unit: String, _ summary: String) {
        entries.append(Statistic(name, value, unit: unit, summary))
    }
    public mutating func add(_ name: String, _ value: Double, unit: String, _ summary: String) {
        entries.append(Statistic(name, value, unit: unit, summary))
    }
    public mutating func append(contentsOf other: StatisticsBlock, prefix: String) {
        for var e in other.entries { e.name = prefix + e.name; entries.append(e) }
    }
    public subscript(name: String) -> Double? { entries.first { $0.name == name }?.value }
}
