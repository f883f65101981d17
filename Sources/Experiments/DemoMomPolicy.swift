import OvercommitSupport

extension DemoScripts {
    /// A MOM policy program (oVirt's Memory Overcommitment Manager) deciding which VMs give
    /// memory back: `Configs/policies/balloon-idle-first.policy`, run by the host every policy
    /// interval over MOM's statistics, balloons the idle guests first.
    static let momPolicy = DemoScript(
        title: "A MOM policy file balloons the idle VMs first",
        summary: "a MOM policy program takes memory from idle VMs first",
        introduction: """
            Three 384 MiB VMs share an 896 MiB KVM host. Two are idle after a burst at boot: 'reports' read 192 MiB \
            of reports into its page cache, 'build' ran a batch job and freed its heap. One gets busy: 'db' warms a \
            256 MiB buffer pool from 2 s. The balloon targets come from a MOM policy file, as on an oVirt host: \
            every second the host collects MOM's statistics (host free memory, each guest's MemFree, page-fault and \
            swap rates, balloon sizes) and every 2 s it evaluates balloon-idle-first.policy, which ranks the guests \
            by their fault and swap rates averaged over the last 4 samples. Under pressure (host free memory below \
            20 %) an idle guest is shrunk by up to 15 % per interval down to a 5 % free margin, while a busy guest \
            keeps its memory unless the idle ones cannot cover what the host needs. Those numbers are the \
            policy's variables, tuned from the scenario (idle_step, idle_free, idle_fault_rate) as the oVirt engine \
            injects its own. MOM's default rules would shrink every guest alike.
            """,
        sources: [
            "oVirt MOM (Memory Overcommitment Manager, 2010-): the policy language (mom/Policy/Parser.py, Evaluator.eval()) and the Balloon controller (mom/Controllers/Balloon.py); vdsm's production rules in /etc/vdsm/mom.d/02-balloon.policy.",
            "Linux drivers/virtio/virtio_balloon.c: fill_balloon(), leak_balloon(): the guest side of every target the policy sets.",
        ],
        counters: [\.vmstat.balloonInflate, \.vmstat.pgmajfault, \.vmstat.pswpout, \.vmstat.pswpin, \.host.hostSwapOuts],
        steps: [
            DemoStep(
                "the idle guests booted, the database starts", stop: .at(.seconds(2)),
                narrate: { v in
                    let free = MomPolicyDemo.hostFreeShare(v)
                    return """
                        The host has \(formatFixed(free * 100, 1)) % of its RAM free. 'reports' holds \
                        \(DemoText.mib(kb: v.guest("reports").meminfo.Cached)) of page cache, 'build' \
                        \(DemoText.mib(kb: v.guest("build").meminfo.MemFree)) free after its batch job. The policy ran at 0 s \
                        and 2 s; with free memory above its 20 % threshold it set no balloon target.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("host free memory is above 20 %", MomPolicyDemo.hostFreeShare(v) > 0.2),
                        DemoExpectation("no VM has a balloon target yet", v.now.guests.allSatisfy { $0.vm.balloonTarget == 0 }),
                    ]
                }),
            DemoStep(
                "pressure: the idle guests are ballooned", stop: .at(.seconds(8)),
                narrate: { v in
                    let free = MomPolicyDemo.hostFreeShare(v)
                    return """
                        The database read its data file and filled its pool (\(DemoText.signed(v.delta("db") { $0.vmstat.pgmajfault })) \
                        major faults): the host's free memory fell to \(formatFixed(free * 100, 1)) % of RAM. The policy \
                        found 'reports' and 'build' idle (few faults, no swap traffic) and set their targets: 'reports' \
                        \(DemoText.mib(pages: v.guest("reports").vm.balloonTarget)), 'build' \
                        \(DemoText.mib(pages: v.guest("build").vm.balloonTarget)), up to 15 % of their memory more at each \
                        evaluation. The busy 'db' has no balloon target. The idle guests' drivers inflate from their free \
                        memory (balloon_inflate \(DemoText.signed(v.delta("build") { $0.vmstat.balloon_inflate })) pages in \
                        'build'); until they catch up the host pages out (host swap-outs in the table).
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("host free memory is below 20 %", MomPolicyDemo.hostFreeShare(v) < 0.2),
                        DemoExpectation(
                            "both idle guests have balloon targets",
                            v.guest("reports").vm.balloonTarget > 0 && v.guest("build").vm.balloonTarget > 0),
                        DemoExpectation("the busy db has none", v.guest("db").vm.balloonTarget == 0),
                    ]
                }),
            DemoStep(
                "'reports' reaches its floor", stop: .at(.seconds(12)),
                narrate: { v in
                    let r = v.guest("reports")
                    return """
                        'reports' stopped at a \(DemoText.mib(kb: r.meminfo.Balloon)) balloon with \
                        \(DemoText.mib(kb: r.meminfo.MemFree)) free: its memory is page cache \
                        (\(DemoText.mib(kb: r.meminfo.Cached))), which MOM's statistics count as used (mem_unused is \
                        MemFree), so the policy's floor, used memory plus 5 % free, keeps it. And its balloon gained the \
                        host nothing: the driver took free pages the guest had never touched, which no machine frame \
                        backed, so the VM still consumes \(DemoText.mib(pages: v.guest("reports").vm.consumed)) on the host. \
                        'build' keeps giving: \(DemoText.mib(kb: v.guest("build").meminfo.Balloon)) so far.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation(
                            "'reports' keeps about 5 % of its memory free (under 8 %)",
                            v.guest("reports").meminfo.MemFree * 100 < 8 * v.guest("reports").meminfo.MemTotal),
                        DemoExpectation("its page cache was untouched during the step", v.delta("reports") { $0.meminfo.Cached } == 0),
                        DemoExpectation("its host consumption did not fall", v.delta("reports") { $0.vm.consumed } >= 0),
                    ]
                }),
            DemoStep(
                "'build' gives back its freed heap", stop: .at(.seconds(20)),
                narrate: { v in
                    let b = v.guest("build"), db = v.guest("db")
                    return """
                        'build' gave back the heap its batch job freed: its balloon is \(DemoText.mib(kb: b.meminfo.Balloon)), \
                        leaving it \(DemoText.mib(kb: b.meminfo.MemFree)) free. 'reports' held its balloon. 'db' was never \
                        ballooned; it pays for its own working set, larger than its memory: \
                        \(DemoText.mib(kb: db.swapUsedKB)) in its swap.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("'build' gave more than 'reports'", v.guest("build").meminfo.Balloon > v.guest("reports").meminfo.Balloon),
                        DemoExpectation("'reports' held its balloon during the step", v.delta("reports") { $0.meminfo.Balloon } == 0),
                        DemoExpectation("'db' was never ballooned", v.guest("db").vmstat.balloon_inflate == 0),
                    ]
                }),
            DemoStep(
                "what it cost", stop: .at(.seconds(30)),
                narrate: { v in
                    let ballooned = v.now.guests.reduce(0) { $0 + $1.meminfo.Balloon }
                    return """
                        The balloons hold \(DemoText.mib(kb: ballooned)) in all, taken from the two idle guests. They paid \
                        nothing for it in their own swap: 'reports' swapped out \(v.guest("reports").vmstat.pswpout) pages, \
                        'build' \(v.guest("build").vmstat.pswpout). What the host could not get from balloons in time it \
                        took by host paging while they grew: \(DemoText.mib(pages: v.now.host.hostSwapped)) host-swapped \
                        now. To compare with MOM's default rules on the same guests, run the scenario with \
                        --set 'host.policy.files=[../policies/balloon-mom.policy]'.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation(
                            "the idle guests did not swap for their balloons",
                            v.guest("reports").vmstat.pswpout == 0 && v.guest("build").vmstat.pswpout == 0),
                        DemoExpectation("the busy db kept all its memory", v.guest("db").meminfo.Balloon == 0),
                    ]
                }),
        ])
}

/// Figures the MOM-policy demo narrates.
enum MomPolicyDemo {
    /// Free machine memory, share of RAM.
    static func hostFreeShare(_ v: DemoView) -> Double {
        Double(v.now.host.free) / Double(max(1, v.now.hostTotalPages))
    }
}
