import OvercommitSupport

extension GuestKernel {
    /// totalpages of the OOM killer and of /proc/PID/oom_score: totalram_pages() +
    /// total_swap_pages (mm/oom_kill.c constrained_alloc, fs/proc/base.c proc_oom_score).
    var oomTotalPages: Int { managedPages + swap.slotCount }

    /// Linux's `oom_badness()` (mm/oom_kill.c, since 5.9): rss + swap entries + page-table
    /// pages, plus `oom_score_adj * (totalpages / 1000)` — the kernel divides totalpages by
    /// 1000 first (`adj *= totalpages / 1000; points += adj;`), so the adjustment is a
    /// multiple of `totalpages / 1000`. nil where Linux returns LONG_MIN: a process with
    /// oom_score_adj -1000 (OOM_SCORE_ADJ_MIN) is never chosen. May be negative.
    public func badness(_ p: GuestProcess) -> Int? {
        GuestKernel.oomBadness(
            rssPages: p.rssAnon + p.rssFile, swapEntries: p.swapEntries, pageTablePages: p.pageTablePages,
            oomScoreAdj: p.oomScoreAdj, totalPages: oomTotalPages)
    }

    /// `oom_badness()` on explicit inputs (see `badness(_:)`).
    public static func oomBadness(rssPages: Int, swapEntries: Int, pageTablePages: Int, oomScoreAdj: Int, totalPages: Int) -> Int? {
        if oomScoreAdj == -1000 { return nil }
        let points = rssPages + swapEntries + pageTablePages
        return points + oomScoreAdj * (totalPages / 1000)
    }

    /// /proc/PID/oom_score as `proc_oom_score()` (fs/proc/base.c, since 5.9) prints it:
    /// `(1000 + badness * 1000 / totalpages) * 2 / 3` in C's truncating long arithmetic, 0 for
    /// an unkillable process; the kernel does not clamp (the result lies in 0...2000 for any
    /// process whose memory fits in RAM + swap).
    public func oomScore(_ p: GuestProcess) -> Int {
        GuestKernel.procOOMScore(badness: badness(p), totalPages: oomTotalPages)
    }

    /// `proc_oom_score()` on explicit inputs (see `oomScore(_:)`).
    public static func procOOMScore(badness: Int?, totalPages: Int) -> Int {
        guard let b = badness else { return 0 }
        let points = (1000 + b * 1000 / max(1, totalPages)) * 2 / 3
        // The kernel stores the long result in an unsigned long; it cannot be negative for
        // badness >= -1000 * (totalpages / 1000), the least oom_badness() returns.
        return max(0, points)
    }

    /// The OOM killer (mm/oom_kill.c out_of_memory): panics when vm.panic_on_oom is set,
    /// kills the allocating task under vm.oom_kill_allocating_task, otherwise the process
    /// `select_bad_process()` picks: every process is evaluated in task-list (pid) order by
    /// `oom_evaluate_task()`, which skips one whose badness is below the best so far, so on a
    /// tie the later process wins. Returns false if nothing was killed.
    @discardableResult
    public func oomKill(trigger: String) -> Bool {
        guard !panicked else { return false }
        // The OOM notifier chain runs first: a balloon with DEFLATE_ON_OOM gives back 1 MiB
        // and the allocation retries (drivers/virtio/virtio_balloon.c virtio_balloon_oom_notify).
        if balloonDeflateOnOOM && balloonPages > 0 {
            let n = balloonDeflate(pages: GuestKernel.oomDeflatePages)
            vmstat.balloon_oom_deflates += 1
            events.append(.balloonDeflateOnOOM(pages: n))
            return true
        }
        if config.panic_on_oom != 0 {
            panic("Out of memory: system-wide panic_on_oom is enabled (\(trigger))")
            return false
        }
        var victim: GuestProcess? = nil
        if config.oom_kill_allocating_task != 0, let c = process(current), c.oomScoreAdj != -1000 {
            victim = c
        } else {
            // oc->chosen_points starts at LONG_MIN; `points < chosen_points` skips, so ties go
            // to the later task. A process that has exited is gone from the table (no mm).
            var best = Int.min
            for case let p? in processes {
                guard let b = badness(p), b >= best else { continue }
                best = b; victim = p
            }
        }
        guard let v = victim else {
            panic("Out of memory and no killable processes (\(trigger))")
            return false
        }
        let b = badness(v) ?? 0
        let score = oomScore(v)
        let rss = v.rssAnon + v.rssFile, sw = v.swapEntries
        let freed = exitProcess(v, killed: true, quiet: true)
        vmstat.oom_kill += 1
        events.append(.oomKill(pid: v.pid, name: v.name, badness: b, oomScore: score, rssPages: rss, swapPages: sw, freedPages: freed, trigger: trigger))
        return true
    }

    /// Kernel panic: every process stops; the guest is dead for the rest of the run.
    func panic(_ reason: String) {
        guard !panicked else { return }
        for case let p? in processes { exitProcess(p, killed: true, quiet: true) }
        panicked = true
        events.append(.panic(reason: reason))
    }

    /// The per-process table (pid, name, rss, swap, oom_score, oom_score_adj).
    public func processTable() -> [ProcessInfo] {
        processes.compactMap { p in
            p.map {
                ProcessInfo(
                    pid: $0.pid, name: $0.name, rssPages: $0.rssAnon + $0.rssFile, swapPages: $0.swapEntries,
                    pageTablePages: $0.pageTablePages, virtualPages: $0.virtualPages, oomScore: oomScore($0),
                    oomScoreAdj: $0.oomScoreAdj, lockedPages: $0.lockedPages)
            }
        }
    }
}
