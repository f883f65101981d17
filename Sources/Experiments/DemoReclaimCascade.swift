import HostPolicies
import OvercommitSupport
import Simulation

extension DemoScripts {
    /// The ESXi reclaim cascade: free-memory states high/clear/soft/hard/low relative to minFree,
    /// each enabling cheaper techniques first (large-page breaking and sharing, then ballooning,
    /// then compression and swapping, then blocking), after VMware's "Understanding Memory
    /// Resource Management in VMware vSphere" and Waldspurger (OSDI 2002).
    static let reclaimCascade = DemoScript(
        title: "The full reclaim cascade through the free-memory states",
        summary: "ESXi states high/clear/soft/hard, each a costlier technique",
        introduction: """
            Three 256 MiB VMs (a web server and two databases, all from one image) run on a host with 600 MiB of RAM, \
            less 64 MiB for the hypervisor. As the databases warm their 192 MiB buffer pools, the host's free memory \
            falls. ESXi decides how hard to reclaim from free memory relative to minFree (6% of the first 4 GiB, here \
            36 MiB): high above it; clear below 100% of minFree, where 2 MiB large pages are broken so their 4 KiB \
            pages can be shared; soft below 64%, where balloons inflate; hard below 32%, where the host compresses \
            and swaps; low below 16%, where allocating VMs also wait. Returning to high needs 400% of minFree. Each \
            state adds a costlier technique only when the cheaper ones were not enough.
            """,
        sources: [
            "VMware, \"Understanding Memory Resource Management in VMware vSphere 5.0\" (technical white paper, 2011): the free-memory states and minFree.",
            "VMware, \"vSphere Resource Management\" (ESXi 6.x/7.0 documentation): memory reclamation, Mem.ShareForceSalting, Mem.MemZipMaxPct.",
            "C. A. Waldspurger, \"Memory Resource Management in VMware ESX Server\", OSDI 2002, sections 3 to 6 (ballooning, sharing, shares and the idle memory tax).",
        ],
        counters: [\.host.compressions, \.host.compressionRejects, \.host.hostSwapOuts, \.host.cowBreaks, \.vmstat.pswpout],
        steps: [
            DemoStep(
                "high: large pages, nothing reclaimed", stop: .at(.ms(3000)),
                narrate: { v in
                    let h = v.now.host
                    let lp = v.now.guests.map { "\($0.name) \($0.vm.largePages)" }.joined(separator: ", ")
                    return """
                        Free memory is \(DemoText.mib(pages: h.free)), well above minFree (\(DemoText.mib(pages: h.minFree))): \
                        state \(h.state.rawValue). The host backs new guest memory with 2 MiB large pages, which make \
                        TLB misses cheaper (large pages per VM: \(lp)). The sharing scanner runs, but a large page is never \
                        shared: pages_shared is \(h.pagesShared). Nothing is ballooned, compressed or swapped.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("the host is in the high state", v.now.host.state == .high),
                        DemoExpectation("guest memory is backed by large pages", v.now.host.largePages > 0),
                        DemoExpectation(
                            "nothing is ballooned, compressed or swapped",
                            v.now.host.ballooned == 0 && v.now.host.compressed == 0 && v.now.host.hostSwapped == 0),
                    ]
                }),
            DemoStep(
                "clear: break large pages, share", stop: .hostState(.clear, after: .ms(500)),
                narrate: { v in
                    let h = v.now.host
                    return """
                        \(DemoScripts.transitions(v)) Free memory fell below minFree. In clear the host breaks large pages \
                        into 512 small ones (\(h.largePagesBroken) broken so far) and, because it had already hashed their \
                        subpages while scanning, shares the duplicates at once: pages_shared \(h.pagesShared), pages_sharing \
                        \(h.pagesSharing), ksm_zero_pages \(h.zeroPagesSharing). Sharing costs the guests nothing until \
                        they write a shared page.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("large pages were broken", v.now.host.largePagesBroken > 0),
                        DemoExpectation(
                            "their subpages are shared",
                            v.now.host.pagesSharing + v.now.host.zeroPagesSharing > v.before.host.pagesSharing + v.before.host.zeroPagesSharing),
                    ]
                }),
            DemoStep(
                "soft and hard: balloon, compress, swap", stop: .hostState(.hard, after: .ms(1000)),
                narrate: { v in
                    let h = v.now.host
                    return """
                        \(DemoScripts.transitions(v)) Sharing was not enough: the databases kept allocating. In soft the \
                        ESX balloon policy computes per-VM targets from shares and the idle memory tax, but balloon drivers \
                        poll once a second and inflate gradually, while free memory kept falling, so the host reached hard \
                        and started paging on its own: it compresses each victim page (kept if under 2 KiB) or swaps it. \
                        Now \(DemoText.mib(pages: h.compressed)) are compressed into \(DemoText.mib(pages: h.cacheFrames)) \
                        of cache, \(DemoText.mib(pages: h.hostSwapped)) are in host swap files and \
                        \(DemoText.mib(pages: h.ballooned)) in balloons.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("the host compresses or swaps in hard", v.now.host.compressed + v.now.host.hostSwapped > 0),
                        DemoExpectation(
                            "the host went through soft on the way down", v.allEvents.contains { $0.is(.hostState) && $0.field("to") == .text("soft") }),
                    ]
                }),
            DemoStep(
                "balloons take over", stop: .at(.ms(12000)),
                narrate: { v in
                    let h = v.now.host
                    let per = v.now.guests.map { "\($0.name) \(DemoText.mib(pages: $0.vm.ballooned))" }.joined(separator: ", ")
                    let top = v.now.guests.max { $0.vm.ballooned < $1.vm.ballooned }?.name ?? "none"
                    let t = h.timeInStateNs
                    func ms(_ s: HostMemoryState) -> String { formatFixed(Double(t[s.level]) / 1e9, 1) + " s" }
                    return """
                        \(DemoScripts.transitions(v)) The balloons kept inflating (\(per)). The ESX policy splits what it \
                        needs by shares per page held, adjusted for idle memory (rho = S / (P (f + k (1 - f))), with the idle \
                        memory tax k = 1 / (1 - 0.75)): the VM with the lowest rho gives first, here \(top). Each guest \
                        chose what to give up, and the host's own paging backed off: compressed \
                        \(DemoText.mib(pages: h.compressed)) (\(DemoText.signed(v.hostDelta { $0.compressed } * 4 / 1024)) MiB), \
                        host-swapped \(DemoText.mib(pages: h.hostSwapped)) (\(DemoText.signed(v.hostDelta { $0.hostSwapped } * 4 / 1024)) MiB), \
                        as touched pages came back and were not paged out again. The host is now in \(h.state.rawValue). \
                        Time spent so far: high \(ms(.high)), clear \(ms(.clear)), soft \(ms(.soft)), hard \(ms(.hard)), \
                        low \(ms(.low)).
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("the balloons hold memory", v.now.host.ballooned > 0),
                        DemoExpectation(
                            "host paging shrinks once balloons work",
                            v.now.host.compressed + v.now.host.hostSwapped < v.before.host.compressed + v.before.host.hostSwapped),
                        DemoExpectation("the host climbed out of hard", v.now.host.state.level < HostMemoryState.hard.level),
                    ]
                }),
        ])

    /// "At 4.30 s the host went from high to clear (free 33.7 MiB); ..." for the step's state changes.
    static func transitions(_ v: DemoView) -> String {
        let changes = v.events.filter { $0.kind == "host_state" }
        guard !changes.isEmpty else { return "The host stayed in the \(v.now.host.state.rawValue) state during this step." }
        func field(_ e: SimulationEvent, _ k: String) -> String { e.field(k)?.description ?? "?" }
        let shown = changes.prefix(4).map { e in
            "at \(formatFixed(Double(e.timeNs) / 1e9, 1)) s \(field(e, "from")) -> \(field(e, "to")) (free \(DemoText.mib(kb: Int(field(e, "free_kb")) ?? 0)))"
        }
        let more = changes.count > 4 ? ", and \(changes.count - 4) more changes" : ""
        return "State changes: " + shown.joined(separator: "; ") + more + "."
    }
}
