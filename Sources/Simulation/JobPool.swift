import Dispatch
import Foundation

/// Runs the independent jobs of a host-wide service (`HostMemory.runJobs`: hashing ahead
/// for the sharing scanner, compressing ahead for host paging, the true active-memory
/// counts) on helper threads, the caller's thread included, at most `threads` at a time.
///
/// Host services run at synchronisation points: between rounds, or while the round runner
/// serves a waiting VM, when every guest job of the round has finished or waits. No guest
/// job runs then, so the helpers use the cores the round leaves idle. The pool is its own
/// because a synchronisation point may be inside a round (`RoundRunner` serving a stalled
/// allocation), where the round runner's state belongs to the round. Which thread runs a job
/// never matters: the jobs write disjoint results that the caller reads after `run` returns.
///
/// A helper woken for a run that is already over (the caller took the jobs first) goes back
/// to sleep; the caller waits only for the jobs taken, not for every helper to wake.
final class JobPool: @unchecked Sendable {
    let threads: Int
    /// Guards everything below; the caller waits on it for the jobs taken to end.
    private let lock = NSCondition()
    /// Sleeping helpers wait here for a run.
    private let wake = DispatchSemaphore(value: 0)
    private var body: ((Int) -> Void)?
    private var count = 0
    private var next = 0
    private var finished = 0
    private var helpers = 0
    private var stopping = false

    init(threads: Int) { self.threads = max(1, threads) }

    /// Runs `body(0)` ... `body(count - 1)` and returns when all have ended.
    func run(count: Int, body: @escaping (Int) -> Void) {
        guard threads > 1, count > 1 else {
            for k in 0..<count { body(k) }
            return
        }
        lock.lock()
        self.body = body
        self.count = count
        next = 0
        finished = 0
        let wanted = min(threads, count) - 1
        while helpers < wanted { startHelper() }
        lock.unlock()
        for _ in 0..<wanted { wake.signal() }
        takeJobs()
        lock.lock()
        while finished < count { lock.wait() }
        self.body = nil
        self.count = 0
        lock.unlock()
    }

    /// Takes jobs of the current run until none is left.
    private func takeJobs() {
        while true {
            lock.lock()
            guard next < count, let body else {
                lock.unlock()
                return
            }
            let k = next
            next += 1
            lock.unlock()
            body(k)
            lock.lock()
            finished += 1
            if finished == count { lock.broadcast() }
            lock.unlock()
        }
    }

    private func startHelper() {
        helpers += 1
        let t = Thread { [self] in
            while true {
                wake.wait()
                lock.lock()
                let stop = stopping
                lock.unlock()
                if stop { return }
                takeJobs()
            }
        }
        t.stackSize = 1 << 20
        t.name = "overcommit-host-\(helpers)"
        t.start()
    }

    /// Stops the helpers (no run may be in progress).
    func shutdown() {
        lock.lock()
        stopping = true
        let n = helpers
        helpers = 0
        lock.unlock()
        for _ in 0..<n { wake.signal() }
    }

    deinit { shutdown() }
}
