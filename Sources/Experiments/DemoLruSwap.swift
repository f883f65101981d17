import OvercommitSupport

extension DemoScripts {
    /// LRU aging, kswapd and swap: Linux's watermarks, `kswapd` / `balance_pgdat`,
    /// `shrink_inactive_list` / `shrink_active_list`, swap-out and the swap cache.
    static let lruSwap = DemoScript(
        title: "LRU aging, kswapd and swap",
        summary: "kswapd, active/inactive LRU aging and guest swap",
        introduction: """
            A 128 MiB guest with 128 MiB of swap on an SSD runs a database whose 112 MiB buffer pool does not fit beside \
            the kernel and the page cache. 90% of its references go to a hot 20% of the pool. Linux keeps pages on \
            active and inactive LRU lists, for anonymous and file pages separately. When free memory falls below the \
            low watermark, kswapd wakes and reclaims from the tails of the inactive lists until free memory is back \
            above the high watermark: page cache is dropped, anonymous pages are written to swap. A page referenced \
            while on the inactive list is promoted to the active list (pgactivate) instead of being evicted, so the \
            hot set survives while cold pages cycle through swap.
            """,
        sources: [
            "Linux mm/vmscan.c: kswapd(), balance_pgdat(), shrink_active_list(), shrink_inactive_list(); mm/page_alloc.c: the min/low/high watermarks (__setup_per_zone_wmarks()).",
            "Linux mm/swap_state.c (the swap cache) and mm/swapfile.c (swap_map).",
            "M. Gorman, \"Understanding the Linux Virtual Memory Manager\", Prentice Hall, 2004, chapters 10 (page frame reclamation) and 11 (swap management).",
            "N. Murray, N. Horman, \"Understanding Virtual Memory\", Red Hat Magazine, November 2004 (the page state machine).",
        ],
        counters: [
            \.vmstat.kswapdWakeups, \.vmstat.pgscanKswapd, \.vmstat.pgstealKswapd, \.vmstat.pgscanDirect, \.vmstat.pgactivate,
            \.vmstat.pgdeactivate, \.vmstat.pswpout, \.vmstat.pswpin, \.vmstat.workingsetRefault, \.vmstat.pgmajfault,
            \.vmstat.oomKill,
        ],
        showHost: false,
        steps: [
            DemoStep(
                "the guest has booted", stop: .at(.ms(450)),
                narrate: { v in
                    let g = v.guest("vm")
                    return """
                        The guest booted: \(DemoText.mib(kb: g.meminfo.MemFree)) free, \(DemoText.mib(kb: g.meminfo.Cached)) \
                        of page cache (the image's files). Its zone watermarks, derived from min_free_kbytes as Linux does, \
                        are min \(g.watermarksKB.min) kB, low \(g.watermarksKB.low) kB and high \(g.watermarksKB.high) kB. \
                        The database starts at 0.5 s.
                        """
                }),
            DemoStep(
                "the buffer pool fills", stop: .at(.ms(1000)),
                narrate: { v in
                    let g = v.guest("vm")
                    return """
                        The database allocated its pool (Committed_AS \(DemoText.signed(v.delta("vm") { $0.meminfo.Committed_AS })) kB) \
                        and touches it page by page: AnonPages \(DemoText.signed(v.delta("vm") { $0.meminfo.AnonPages })) kB, \
                        MemFree down to \(DemoText.mib(kb: g.meminfo.MemFree)). New pages start on the inactive list. There is \
                        still free memory above the low watermark, so kswapd has nothing to do \
                        (\(v.delta("vm") { $0.vmstat.kswapd_wakeups }) wake-ups) and nothing is swapped.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("the pool grows AnonPages", v.delta("vm") { $0.meminfo.AnonPages } > 0),
                        DemoExpectation("nothing is swapped out yet", v.guest("vm").vmstat.pswpout == 0),
                    ]
                }),
            DemoStep(
                "free memory hits the low watermark", stop: .at(.ms(1500)),
                narrate: { v in
                    let g = v.guest("vm")
                    return """
                        MemFree reached the watermarks (now \(g.meminfo.MemFree) kB, low is \(g.watermarksKB.low) kB). kswapd \
                        woke \(v.delta("vm") { $0.vmstat.kswapd_wakeups }) times, scanned \
                        \(v.delta("vm") { $0.vmstat.pgscan_kswapd }) pages and reclaimed \
                        \(v.delta("vm") { $0.vmstat.pgsteal_kswapd }). With vm.swappiness 60 it takes from both kinds of \
                        inactive list: clean page cache is simply dropped (Cached \
                        \(DemoText.signed(v.delta("vm") { $0.meminfo.Cached })) kB), anonymous pages must be written to swap \
                        first (\(v.delta("vm") { $0.vmstat.pswpout }) swap-outs, Swap used \(g.swapUsedKB) kB). From now on \
                        free memory stays pinned near the watermarks: every new page is paid for by an eviction.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("kswapd woke up", v.delta("vm") { $0.vmstat.kswapd_wakeups } > 0),
                        DemoExpectation("page cache was reclaimed", v.delta("vm") { $0.meminfo.Cached } < 0),
                        DemoExpectation("free memory is at or below the high watermark", v.guest("vm").meminfo.MemFree <= v.guest("vm").watermarksKB.high),
                    ]
                }),
            DemoStep(
                "aging: hot pages promoted, cold pages swapped", stop: .at(.ms(2500)),
                narrate: { v in
                    let g = v.guest("vm")
                    return """
                        Reclaim now scans the anonymous inactive list. A page whose accessed bit is set when the scan reaches \
                        it gets a second chance: \(v.delta("vm") { $0.vmstat.pgactivate }) pages were promoted to the active \
                        list (Active(anon) \(g.meminfo.ActiveAnon) kB); those not referenced were written out \
                        (\(v.delta("vm") { $0.vmstat.pswpout }) swap-outs). When the database touches a swapped page again, it \
                        takes a major fault and reads it back (\(v.delta("vm") { $0.vmstat.pswpin }) swap-ins with readahead, \
                        \(v.delta("vm") { $0.vmstat.workingset_refault }) refaults). A page read back stays in the swap cache \
                        as well (SwapCached \(g.meminfo.SwapCached) kB), so if it is evicted again unmodified it need not be \
                        written a second time.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("referenced pages are activated", v.delta("vm") { $0.vmstat.pgactivate } > 0 && v.guest("vm").meminfo.ActiveAnon > 0),
                        DemoExpectation("cold pages are swapped out", v.delta("vm") { $0.vmstat.pswpout } > 0),
                        DemoExpectation("swapped pages fault back in", v.delta("vm") { $0.vmstat.pswpin } > 0 && v.guest("vm").meminfo.SwapCached > 0),
                    ]
                }),
            DemoStep(
                "steady state", stop: .at(.ms(6000)),
                narrate: { v in
                    let g = v.guest("vm")
                    let seconds = Double(v.now.timeNs - v.before.timeNs) / 1e9
                    let majPerS = Double(v.delta("vm") { $0.vmstat.pgmajfault }) / seconds
                    return """
                        The system settled: the active list holds \(DemoText.mib(kb: g.meminfo.ActiveAnon)) of anonymous \
                        memory, the hot part of the pool and whatever else was referenced recently; kswapd keeps balancing \
                        the two lists (pgdeactivate \(DemoText.signed(v.delta("vm") { $0.vmstat.pgdeactivate }))). \
                        \(DemoText.mib(kb: g.swapUsedKB)) is in swap, and the page cache has shrunk to \
                        \(DemoText.mib(kb: g.meminfo.Cached)). The database keeps running at \
                        \(formatFixed(majPerS, 0)) major faults per second: each waits for the SSD, which is the price of a \
                        working set that is bigger than RAM. Nobody was OOM-killed: swap absorbed the overcommitment.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("swap keeps growing or holds the cold pages", v.guest("vm").swapUsedKB > 0),
                        DemoExpectation("the page cache keeps shrinking", v.delta("vm") { $0.meminfo.Cached } < 0),
                        DemoExpectation("no OOM kill", v.guest("vm").vmstat.oom_kill == 0),
                    ]
                }),
        ])
}
