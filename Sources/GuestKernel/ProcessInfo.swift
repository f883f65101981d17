import OvercommitSupport
import PageContents

/// A row of the per-process table (pid, name, rss, swap, oom_score, oom_score_adj).
public struct ProcessInfo: Sendable, Equatable {
    public var pid: PID
    public var name: String
    public var rssPages: Int
    public var swapPages: Int
    public var pageTablePages: Int
    public var virtualPages: Int
    public var oomScore: Int
    public var oomScoreAdj: Int
    public var lockedPages: Int
}
