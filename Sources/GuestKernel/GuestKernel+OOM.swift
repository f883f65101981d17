import OvercommitSupport

extension GuestKernel {
    /// totalpages of the OOM killer: RAM plus swap.
    var oomTotalPages: Int { managedPages + swap.slotCount }

    /// Linux's oom_badness(): rss + swap entries + page-table pages, plus
    /// oom_score_adj * totalpages / 1000. nil for unkillable processes (adj -1000).
    public func badness(_ p: GuestProcess) -> Int? {
        if p.oomScoreAdj == -1000 { return nil }
        let points = p.rssAnon + p.rssFile + p.swapEntries + p.pageTablePages
        return points + p.oomScoreAdj * oomTotalPages / 1000
    }

    /// /proc/PID/oom_score: 1000 + badness * 1000 / totalpages, in 0...2000 (Linux >= 5.9).
    public func oomScore(_ p: GuestProcess) -> Int {
        guard let b = badness(p) else { return 0 }
        return max(0, min(2000, 1000 + b * 1000 / max(1, oomTotalPages)))
    }

    /// The OOM killer (mm/oom_kill.c out_of_memory): panics when vm.panic_on_oom is set,
    /// kills the allocating task under vm.oom_kill_allocating_task, otherwise the process with
    /// the highest badness (the first in pid order on a tie). Returns false if nothing was killed.
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
            var best = Int.min
            for case let p? in processes {
                guard let b = badness(p), p.rssAnon + p.rssFile + p.swapEntries + p.pageTablePages > 0 || p.oomScoreAdj > 0 else { continue }
                if b > best { best = b; victim = p }
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
                ProcessInfo(pid: $0.pid, name: $0.name, rssPages: $0.rssAnon + $0.rssFile, swapPages: $0.swapEntries,
                            pageTablePages: $0.pageTablePages, virtualPages: $0.virtualPages, oomScore: oomScore($0),
                            oomScoreAdj: $0.oomScoreAdj, lockedPages: $0.lockedPages)
            }
        }
    }
}
