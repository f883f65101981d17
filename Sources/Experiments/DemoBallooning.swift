import OvercommitSupport

extension DemoScripts {
    /// Ballooning: virtio-balloon / VMware vmmemctl inflating inside the guest (Waldspurger 2002),
    /// so the guest's own reclaim (kswapd, swap) decides what to give up.
    static let ballooning = DemoScript(
        title: "Ballooning pushes a guest to reclaim",
        summary: "a balloon makes the guest reclaim: free, cache, then anon",
        introduction: """
            One 256 MiB guest runs a database with a 96 MiB buffer pool; its page cache holds 56 MiB of binaries and \
            libraries read at boot. The host wants 160 MiB back and sets the VM's balloon target (here a static policy; \
            ESX, oVirt MOM, Proxmox and XenServer compute the target from host pressure). The guest's balloon driver \
            (virtio-balloon, VMware's vmmemctl) allocates pages from the guest kernel like any driver, pins them, and \
            tells the host their frame numbers; the host frees the machine memory behind them. To the guest it is a \
            driver using memory, so the guest's own policy decides what to give up: free memory first, then page \
            cache, then anonymous pages to its swap. The host cannot make that choice nearly as well: it does not know \
            which pages are free, cache or hot.
            """,
        sources: [
            "C. A. Waldspurger, \"Memory Resource Management in VMware ESX Server\", OSDI 2002, section 3.2 (ballooning).",
            "Linux drivers/virtio/virtio_balloon.c: fill_balloon(), leak_balloon(), update_balloon_size(); the virtio 1.2 specification, section 5.5 (traditional memory balloon device).",
            "Linux mm/vmscan.c: kswapd(), balance_pgdat(), shrink_lruvec(): the guest reclaim the balloon sets off.",
            "VMware, \"Understanding Memory Resource Management in VMware vSphere 5.0\" (technical white paper, 2011), \"Ballooning\".",
        ],
        counters: [\.vmstat.balloonInflate, \.vmstat.kswapdWakeups, \.vmstat.pgstealKswapd, \.vmstat.pswpout, \.vmstat.pswpin, \.vmstat.pgmajfault],
        steps: [
            DemoStep(
                "the guest has booted; inflation begins", stop: .at(.ms(450)),
                narrate: { v in
                    let g = v.guest("vm")
                    return """
                        The guest booted: Cached \(DemoText.mib(kb: g.meminfo.Cached)), MemFree \
                        \(DemoText.mib(kb: g.meminfo.MemFree)). The host set the balloon target to \
                        \(DemoText.mib(pages: g.vm.balloonTarget)); the driver polls it every 250 ms and inflates at most \
                        32 MiB per second, so the balloon (Balloon in meminfo, 'b' in the bar) grows step by step: \
                        \(DemoText.mib(kb: g.meminfo.Balloon)) so far.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("the host has set a balloon target", v.guest("vm").vm.balloonTarget > 0)
                    ]
                }),
            DemoStep(
                "the balloon takes free memory", stop: .at(.ms(2500)),
                narrate: { v in
                    let g = v.guest("vm")
                    return """
                        The balloon grew to \(DemoText.mib(kb: g.meminfo.Balloon)) (balloon_inflate \
                        \(DemoText.signed(v.delta("vm") { $0.vmstat.balloon_inflate })) pages). As long as the guest has free \
                        pages, allocating them costs nothing: MemFree fell to \(DemoText.mib(kb: g.meminfo.MemFree)) while the \
                        page cache stayed at \(DemoText.mib(kb: g.meminfo.Cached)) and nothing was swapped. The host's \
                        consumed memory for the VM still changed by \(DemoText.signed(v.delta("vm") { $0.vm.consumed * 4 / 1024 })) MiB: \
                        the database warmed its pool, and the free frames the balloon took had mostly never been touched, so \
                        there was no machine page behind them to release. What the balloon gained is a promise: the guest \
                        can no longer touch those frames.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("the balloon grows", v.delta("vm") { $0.meminfo.Balloon } > 0),
                        DemoExpectation("free memory goes first: the page cache is untouched", v.delta("vm") { $0.meminfo.Cached } == 0),
                        DemoExpectation("nothing is swapped yet", v.guest("vm").vmstat.pswpout == 0),
                    ]
                }),
            DemoStep(
                "free memory runs out: the guest reclaims", stop: .at(.ms(4000)),
                narrate: { v in
                    let g = v.guest("vm")
                    return """
                        Free memory reached the watermarks, so each balloon allocation now wakes kswapd (\(v.delta("vm") { $0.vmstat.kswapd_wakeups }) \
                        wake-ups, \(v.delta("vm") { $0.vmstat.pgsteal_kswapd }) pages reclaimed). The guest drops the coldest \
                        pages it has: page cache first (Cached \(DemoText.signed(v.delta("vm") { $0.meminfo.Cached / 1024 })) MiB) \
                        and the database's cold pool pages to swap (\(v.delta("vm") { $0.vmstat.pswpout }) swap-outs). The \
                        host's consumed memory for the VM falls (\(DemoText.signed(v.delta("vm") { $0.vm.consumed * 4 / 1024 })) \
                        MiB): every page the guest frees for the balloon is a backed page the host gets back.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("the guest reclaims page cache for the balloon", v.delta("vm") { $0.meminfo.Cached } < 0),
                        DemoExpectation("the host's consumed memory falls", v.delta("vm") { $0.vm.consumed } < 0),
                    ]
                }),
            DemoStep(
                "the target is reached", stop: .at(.ms(5500)),
                narrate: { v in
                    let g = v.guest("vm")
                    return """
                        The balloon reached its target: \(DemoText.mib(kb: g.meminfo.Balloon)). To get there the guest gave up \
                        almost all of its page cache (Cached \(DemoText.mib(kb: g.meminfo.Cached))) and put \
                        \(DemoText.mib(kb: g.swapUsedKB)) of anonymous memory in its swap. The host backs the VM with \
                        \(DemoText.mib(pages: g.vm.consumed)) now, against \(DemoText.mib(pages: v.start.guest("vm").vm.configured)) \
                        configured.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("the balloon holds its 160 MiB target", v.guest("vm").meminfo.Balloon == 160 * 1024),
                        DemoExpectation("the guest swapped anonymous pages to make room", v.guest("vm").swapUsedKB > 0),
                    ]
                }),
            DemoStep(
                "living in a smaller guest", stop: .at(.ms(8000)),
                narrate: { v in
                    let seconds = Double(v.now.timeNs - v.before.timeNs) / 1e9
                    let maj = Double(v.delta("vm") { $0.vmstat.pgmajfault }) / seconds
                    return """
                        The database keeps running in the \(DemoText.mib(kb: v.guest("vm").meminfo.MemTotal - v.guest("vm").meminfo.Balloon)) \
                        left to it. Its hot pages stay resident on the active list; cold pool pages come back from swap when \
                        touched (\(formatFixed(maj, 0)) major faults per second). That is the cost of ballooning too deep; \
                        a balloon policy that looks at the guest's active memory (ESX's idle memory tax, MOM's free-memory \
                        rules) stops earlier. Deflating the balloon would give the memory back to the guest at once.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("no OOM kill: the guest could make room", v.guest("vm").vmstat.oom_kill == 0)
                    ]
                }),
        ])
}
