/// What the reader answers at a `--step` prompt.
public enum DemoKey: Equatable, Sendable {
    /// Enter (or end of input): the next step.
    case next
    /// `b`: the step before the one on screen.
    case back
    /// `q`: stop the demo here.
    case quit
    /// Anything else: say which keys there are.
    case unknown(String)

    /// Reads one line typed at the prompt (nil: end of input, which goes on without waiting).
    public init(line: String?) {
        guard let line else { self = .next; return }
        switch line.trimmingWhitespace.lowercased() {
        case "": self = .next
        case "b", "back", "p", "prev", "previous": self = .back
        case "q", "quit", "exit": self = .quit
        default: self = .unknown(line)
        }
    }

    /// The prompt's help, shown at each pause and in `--help`.
    public static let help = "Enter: next step, b: back one step, q: quit"
}

/// Walks a demo's steps forward and back for `--step`.
///
/// Going forward runs the simulation to the next step; going back shows a step already run
/// again. The run is deterministic, so the step shown again is exactly what re-running the
/// demo to it would print, and its expectations are counted once.
public struct DemoSession {
    public let runner: DemoRunner
    /// Every step run so far, in order.
    public private(set) var reports: [DemoStepReport] = []
    /// The index in `reports` of the step on screen (-1 before the first).
    public private(set) var position = -1

    /// What to show after a key.
    public enum Move: Equatable {
        /// This step's text.
        case show(DemoStepReport)
        /// `b` on the first step: nothing before it.
        case atFirstStep
        /// The last step has been shown and the reader went on.
        case finished
        /// The reader quit on step `at` (1-based) of `of`.
        case quit(at: Int, of: Int)
        /// A key that means nothing.
        case unknown(String)
    }

    public init(runner: DemoRunner) { self.runner = runner }

    /// Applies a key and says what to show.
    public mutating func apply(_ key: DemoKey) throws -> Move {
        switch key {
        case .next:
            if position + 1 < reports.count {
                position += 1
                return .show(reports[position])
            }
            guard let r = try runner.next() else { return .finished }
            reports.append(r)
            position = reports.count - 1
            return .show(r)
        case .back:
            guard position > 0 else { return .atFirstStep }
            position -= 1
            return .show(reports[position])
        case .quit:
            return .quit(at: position + 1, of: runner.script.steps.count)
        case .unknown(let s):
            return .unknown(s)
        }
    }
}

extension DemoStepReport: Equatable {
    public static func == (a: DemoStepReport, b: DemoStepReport) -> Bool { a.index == b.index && a.text == b.text }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s.removeLast() }
        return String(s)
    }
}
