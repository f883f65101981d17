import Dispatch
import Foundation

/// Runs the jobs of one parallel round (the guests' work at one instant) on worker threads,
/// at most `threads` at a time, with synchronisation points where the waiting jobs are served
/// in job order.
///
/// A job may call `park(job)`: it then waits until every job of the round has finished or
/// waits too, when the coordinator serves the waiting ones in job order and resumes them.
/// Between two such points a job touches only its own state and what was fixed at the last
/// point, so what each job computes does not depend on the number of threads or on their
/// timing: one thread and many give byte-identical results (`SimulationOptions.threads`).
///
/// The caller's thread (the coordinator) takes jobs too, so a round on one thread runs on the
/// caller's thread without a hand-off unless a job waits. A waiting job keeps its thread (its
/// stack), so the runner starts another thread to go on with the round's other jobs; when the
/// waiting job is the coordinator's, the coordinator serves the synchronisation point from
/// inside its `park` (the same point, the same order). Threads are kept for the next rounds and
/// stopped by `shutdown()`. A round of one job runs on the caller's thread, served inline.
final class RoundRunner: @unchecked Sendable {
    let threads: Int
    /// Guards everything below; the coordinator waits on it.
    private let lock = NSCondition()
    /// At most `threads` jobs run at once.
    private let tokens: DispatchSemaphore
    /// Idle workers wait here for a round.
    private let wake = DispatchSemaphore(value: 0)
    private var idle = 0
    private var spawned = 0
    private var stopping = false
    /// The round: its jobs, the next one not started, how many finished, which wait.
    private var body: ((Int) -> Void)?
    /// The order in which jobs are started (longest first: less waiting at the round's end).
    private var order: [Int] = []
    private var count = 0
    private var next = 0
    private var finished = 0
    private var waiting: [Int] = []
    /// One semaphore per job slot: a waiting job sleeps on its own.
    private var resume: [DispatchSemaphore] = []
    /// The inline round's service (a round of one job).
    private var inlineServe: ((Int) -> Void)?
    /// The round's service (its synchronisation points).
    private var serve: ((Int) -> Void)?
    /// The job the coordinator is running, if any.
    private var coordinatorJob: Int?

    init(threads: Int) {
        self.threads = max(1, threads)
        tokens = DispatchSemaphore(value: self.threads)
    }

    /// Runs `body(k)` for `k` in `0..<count`, started in `order` (a permutation of the jobs;
    /// default ascending); `serve(k)` answers job `k`'s `park` at the round's synchronisation
    /// points, on the caller's thread, waiting jobs in ascending job order whatever `order`.
    /// The start order changes only how busy the threads are, never a result.
    func run(count: Int, order: [Int]? = nil, body: @escaping (Int) -> Void, serve: @escaping (Int) -> Void) {
        guard count > 1 else {
            if count == 1 {
                inlineServe = serve
                body(0)
                inlineServe = nil
            }
            return
        }
        lock.lock()
        self.body = body
        self.order = order ?? Array(0..<count)
        precondition(self.order.count == count, "the start order must name every job once")
        self.count = count
        self.serve = serve
        next = 0
        finished = 0
        waiting = []
        while resume.count < count { resume.append(DispatchSemaphore(value: 0)) }
        for _ in 0..<(min(threads, count) - 1) { startRunner() }
        lock.unlock()
        runJobs(coordinator: true)
        lock.lock()
        while serveNextPoint() {}
        self.body = nil
        self.serve = nil
        lock.unlock()
    }

    /// Called by job `k` (on its thread) to wait for the round's next synchronisation point,
    /// where the coordinator serves it.
    func park(_ k: Int) {
        if let serve = inlineServe {
            serve(k)
            return
        }
        lock.lock()
        waiting.append(k)
        if next < count { startRunner() }
        signalIfPointReached()
        if coordinatorJob == k {
            // The coordinator waits in its own job: it serves the synchronisation point here,
            // exactly as `run` would, and goes on with its job.
            lock.unlock()
            tokens.signal()
            lock.lock()
            _ = serveNextPoint(own: k)
            lock.unlock()
            tokens.wait()
            return
        }
        lock.unlock()
        tokens.signal()
        resume[k].wait()
        tokens.wait()
    }

    /// The coordinator's part of a synchronisation point, lock held: waits until every job
    /// has finished or waits, serves the waiting ones in ascending job order and resumes them
    /// (all but `own`, the coordinator's own job, which goes on by itself). False when none
    /// waited: the round is over.
    private func serveNextPoint(own: Int? = nil) -> Bool {
        while !pointReached { lock.wait() }
        guard !waiting.isEmpty, let serve else { return false }
        let served = waiting.sorted()
        waiting = []
        lock.unlock()
        for k in served { serve(k) }
        lock.lock()
        for k in served where k != own { resume[k].signal() }
        return true
    }

    /// Whether every job of the round has started and each has finished or waits: the
    /// synchronisation point (lock held).
    private var pointReached: Bool { next >= count && finished + waiting.count == count }

    /// Wakes the coordinator only when the point is reached (lock held). Waking it at every
    /// finished job made it wake, find the round still going and sleep again: two needless
    /// context switches per job on one core.
    private func signalIfPointReached() {
        if pointReached { lock.signal() }
    }

    /// Stops the idle workers (a round must not be running).
    func shutdown() {
        lock.lock()
        stopping = true
        let n = idle
        idle = 0
        lock.unlock()
        for _ in 0..<n { wake.signal() }
    }

    deinit { shutdown() }

    /// Wakes an idle worker or starts one (the lock is held).
    private func startRunner() {
        if idle > 0 {
            idle -= 1
            wake.signal()
            return
        }
        spawned += 1
        let t = Thread { [self] in worker() }
        t.stackSize = 16 << 20
        t.name = "overcommit-round-\(spawned)"
        t.start()
    }

    private func worker() {
        while true {
            runJobs()
            lock.lock()
            if stopping {
                lock.unlock()
                return
            }
            idle += 1
            lock.unlock()
            wake.wait()
            lock.lock()
            let stop = stopping
            lock.unlock()
            if stop { return }
        }
    }

    /// Takes jobs of the current round until none is left (`coordinator`: on the caller's
    /// thread, whose waiting job serves the round's synchronisation point itself).
    private func runJobs(coordinator: Bool = false) {
        tokens.wait()
        while true {
            lock.lock()
            guard next < count, let body else {
                lock.unlock()
                break
            }
            let k = order[next]
            next += 1
            if coordinator { coordinatorJob = k }
            lock.unlock()
            body(k)
            lock.lock()
            if coordinator { coordinatorJob = nil }
            finished += 1
            signalIfPointReached()
            lock.unlock()
        }
        tokens.signal()
    }
}
