import OvercommitSupport
import PageContents

/// Tells the OPT policy when each page will be referenced next (trace replay).
public protocol FutureReferenceOracle: AnyObject {
    /// Index of the next reference to (pid, vpn) after the current trace position, `Int.max` if none.
    func nextUse(pid: PID, vpn: VPN) -> Int
}
