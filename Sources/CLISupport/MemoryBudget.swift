import Foundation
import OvercommitSupport

/// The memory a run may use on this machine: what `run` compares the estimated peak with
/// before it starts (`RunCostEstimate`), so a scenario too large for the machine is refused
/// instead of being killed by the kernel's OOM killer hours later.
public enum MemoryBudget {
    /// MemAvailable of /proc/meminfo (what the kernel can give without swapping), or nil
    /// where there is no such file.
    public static func availableBytes(meminfo path: String = "/proc/meminfo") -> UInt64? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return parseAvailable(text)
    }

    /// The `MemAvailable:` line of a meminfo text, in bytes.
    public static func parseAvailable(_ meminfo: String) -> UInt64? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kb = UInt64(fields[1]) else { return nil }
            return kb * 1024
        }
        return nil
    }

    /// The problem with running a scenario whose estimated peak is `estimate` bytes when
    /// `limit` bytes are available (`limitSource` says where the limit came from), or nil if
    /// it fits.
    public static func refusal(estimate: UInt64, limit: UInt64, limitSource: String, file: String) -> CLIProblem? {
        guard estimate > limit else { return nil }
        return CLIProblem(
            "\(file): the estimated peak memory of this run, \(ByteCount.human(Double(estimate))), exceeds "
                + "\(limitSource), \(ByteCount.human(Double(limit))); pass --force-memory to run it anyway, or "
                + "--max-memory SIZE to set the limit (see docs/performance.md for how the estimate is made)")
    }
}
