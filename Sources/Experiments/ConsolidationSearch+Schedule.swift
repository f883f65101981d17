import Dispatch
import Foundation
import Simulation
import Synchronization

/// The runs of one consolidation search on several threads, scheduled one run at a time.
///
/// Each size needs two runs (on its host and on a roomy one). `jobs` worker threads take
/// runs as they become free: first the runs of the size the search needs now, then, rather
/// than wait, runs of the sizes it may need next (`ConsolidationSearch.lookahead`: by the
/// chance the search needs them per VM they run). The worker that brings a size's second
/// run in makes its point, once. The caller's thread follows the search: when the point of
/// the size it needs is made, it moves the search on and stops the runs it can no longer
/// need (a size outside the new state's decision tree is never needed again). Every reported point comes from the same two runs the
/// one-job search makes, so the answer and every output are the same for any `jobs`; only
/// the CPU spent on sizes the search did not need depends on timing.
final class SearchSchedule: @unchecked Sendable {
    /// One run: `copies` on its host, or on the roomy host of the penalty's baseline.
    struct Run: Hashable {
        var copies: Int
        var roomy: Bool
    }

    /// Set when the search no longer needs a run: the run stops at its next event.
    final class Cancel: Sendable {
        let requested = Atomic<Bool>(false)
    }

    let search: ConsolidationSearch
    let top: Int
    let jobs: Int
    /// Guards everything below. The caller's thread waits on it for results, workers for runs.
    private let lock = NSCondition()
    private var state = ConsolidationSearch.SearchState()
    private var results: [Run: Result<SimulationResult, Error>] = [:]
    private var running: [Run: Cancel] = [:]
    /// The point of each size whose two runs are both in, made once by the worker that
    /// brought the second run in (a point that cannot be made keeps its error, which the
    /// search reports when it gets there).
    private var points: [Int: Result<ConsolidationPoint, Error>] = [:]
    /// Whether each size with a point held.
    private var outcomes: [Int: Bool] { points.compactMapValues { try? $0.get().passed } }
    private var over = false
    private var workersLeft = 0

    init(search: ConsolidationSearch, top: Int) {
        self.search = search
        self.top = top
        jobs = max(2, search.jobs)
    }

    /// Runs the search to its end; `finished` is told each size the search tries, in order,
    /// on the caller's thread. Returns the final state.
    func run(finished: (ConsolidationPoint) -> Void) throws -> ConsolidationSearch.SearchState {
        lock.lock()
        workersLeft = jobs
        for n in 0..<jobs {
            let t = Thread { [self] in worker() }
            t.stackSize = 16 << 20
            t.name = "overcommit-search-\(n + 1)"
            t.start()
        }
        var failure: Error?
        follow: while true {
            while let k = state.next, let made = points[k] {
                let p: ConsolidationPoint
                do { p = try made.get() } catch {
                    failure = error
                    break follow
                }
                state = state.after(k, passed: p.passed, top: top)
                lock.unlock()
                finished(p)
                lock.lock()
            }
            if state.next == nil { break }
            dropUnneeded()
            lock.broadcast()
            lock.wait()
        }
        over = true
        for c in running.values { c.requested.store(true, ordering: .relaxed) }
        lock.broadcast()
        while workersLeft > 0 { lock.wait() }
        lock.unlock()
        if let failure { throw failure }
        return state
    }

    /// Stops the running runs and forgets the results of sizes the search can no longer
    /// reach (lock held).
    private func dropUnneeded() {
        let reachable = Set(search.reachable(from: state, top: top, outcomes: outcomes).map(\.size))
        for (r, c) in running where !reachable.contains(r.copies) { c.requested.store(true, ordering: .relaxed) }
        for r in Array(results.keys) where !reachable.contains(r.copies) { results[r] = nil }
        for k in Array(points.keys) where !reachable.contains(k) { points[k] = nil }
    }

    /// The next run to start, the search's next size first (lock held).
    private func pick() -> Run? {
        // Every size listed but not startable has a run in progress, so this many are enough.
        for k in search.lookahead(from: state, top: top, width: running.count + 1, outcomes: outcomes) {
            for roomy in [false, true] {
                let r = Run(copies: k, roomy: roomy)
                if results[r] == nil && running[r] == nil { return r }
            }
        }
        return nil
    }

    private func worker() {
        lock.lock()
        while !over {
            guard let r = pick() else {
                lock.wait()
                continue
            }
            let cancel = Cancel()
            running[r] = cancel
            lock.unlock()
            var options = search.options
            let outer = options.stop
            options.stop = { cancel.requested.load(ordering: .relaxed) ? "no longer needed by the search" : outer?() }
            let result = Result { try search.simulate(copies: r.copies, roomy: r.roomy, options: options) }
            lock.lock()
            running[r] = nil
            if !cancel.requested.load(ordering: .relaxed) {
                results[r] = result
                if let other = results[Run(copies: r.copies, roomy: !r.roomy)] {
                    let (run, baseline) = r.roomy ? (other, result) : (result, other)
                    points[r.copies] = Result { try search.point(copies: r.copies, run: run.get(), baseline: baseline.get()) }
                }
            }
            lock.broadcast()
        }
        workersLeft -= 1
        lock.broadcast()
        lock.unlock()
    }
}
