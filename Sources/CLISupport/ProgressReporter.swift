import OvercommitSupport

/// Progress of a long run for stderr: simulated time, rate (simulated seconds per wall
/// second) and the estimated time left.
///
/// On a terminal the line is redrawn in place (`\r`); otherwise (a batch job's log on Slurm
/// or Kubernetes) one full line is written at most every `interval` wall seconds, so logs show
/// progress without filling up. The wall clock is passed in, so the reporter has no clock of
/// its own and its output is testable.
public struct ProgressReporter {
    /// Simulated seconds of the whole run.
    public let durationSeconds: Double
    /// Redraw in place (a terminal) or write lines (a log).
    public let terminal: Bool
    /// Shortest wall time between two lines in a log (seconds).
    public let interval: Double
    private var lastLine = 0.0

    public init(durationSeconds: Double, terminal: Bool, interval: Double = 5) {
        self.durationSeconds = durationSeconds
        self.terminal = terminal
        self.interval = interval
    }

    /// The text to write for `fraction` of the run done after `wall` seconds, or nil when it
    /// is too soon after the last line (logs only).
    public mutating func update(fraction: Double, wall: Double) -> String? {
        let simS = fraction * durationSeconds
        let rate = wall > 0 ? simS / wall : 0
        let eta = rate > 0 ? formatFixed((durationSeconds - simS) / rate, 0) + " s" : "--"
        if terminal {
            return "\r" + pad(formatFixed(fraction * 100, 1), 5) + "%  " + formatFixed(rate, 2) + " sim-s/s  ETA " + eta + " "
        }
        guard wall - lastLine >= interval else { return nil }
        lastLine = wall
        return "progress: " + formatFixed(simS, 1) + " of " + formatFixed(durationSeconds, 0) + " s simulated ("
            + formatFixed(fraction * 100, 1) + " %), " + formatFixed(rate, 3) + " sim-s per wall-s, wall "
            + formatFixed(wall, 0) + " s, ETA " + eta + "\n"
    }

    /// What ends the progress display (clears the terminal line; nothing in a log).
    public var finish: String { terminal ? "\r\u{1B}[K" : "" }

    private func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
}
