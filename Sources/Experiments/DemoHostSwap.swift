import OvercommitSupport

extension DemoScripts {
    /// Host swapping and double paging: ESX's per-VM .vswp swap file with random victims
    /// (Waldspurger 2002, section 3.3), and the double-paging problem (Goldberg and Hassinger 1974).
    static let hostSwap = DemoScript(
        title: "Host swap and double paging",
        summary: "host swap with random victims, and double paging",
        introduction: """
            A 256 MiB guest without a balloon driver has an ESX limit of 96 MiB, and host compression is off, so the \
            host's only way to hold the VM to its limit is to swap its pages to the VM's swap file. It does not know \
            which guest pages matter, so it picks victims at random. The guest's batch job grows a 288 MiB heap, more \
            than the guest's own RAM, so the guest kernel swaps as well, choosing its victims by LRU. To write a page \
            to its swap the guest must read it; if the host had already swapped that page out, the host first reads \
            it back in, and the guest then writes it out again. This is double paging: two I/Os for a page nobody \
            needed, and a page the host just read is dropped by the guest right away.
            """,
        sources: [
            "C. A. Waldspurger, \"Memory Resource Management in VMware ESX Server\", OSDI 2002, section 3.3 (demand paging by the host, random victims).",
            "R. P. Goldberg, R. Hassinger, \"The Double Paging Anomaly\", AFIPS National Computer Conference, 1974.",
            "VMware, \"Understanding Memory Resource Management in VMware vSphere 5.0\" (technical white paper, 2011), \"Hypervisor Swapping\" (the per-VM .vswp file).",
        ],
        counters: [\.host.hostSwapOuts, \.host.hostSwapIns, \.host.doublePaging, \.vmstat.pswpout, \.vmstat.pswpin, \.vmstat.pgmajfault],
        steps: [
            DemoStep(
                "the guest has booted", stop: .at(.ms(450)),
                narrate: { v in
                    let g = v.guest("vm")
                    return """
                        The guest booted; the host backs \(DemoText.mib(pages: g.vm.consumed)) of it. The batch job starts at \
                        0.5 s.
                        """
                }),
            DemoStep(
                "the host swaps behind the guest's back", stop: .at(.ms(1500)),
                narrate: { v in
                    let g = v.guest("vm")
                    return """
                        The heap grew to \(DemoText.mib(kb: g.meminfo.AnonPages)). Past the 96 MiB limit the host swapped \
                        \(v.delta("vm") { $0.vm.stats.swapOuts }) pages out to make room for the new ones: the VM's \
                        consumed memory is pinned at \(DemoText.mib(pages: g.vm.consumed)) and \
                        \(DemoText.mib(pages: g.vm.hostSwapped)) sits in the host swap file ('s' in the bar). The guest still \
                        believes it has \(DemoText.mib(kb: g.meminfo.MemFree)) free and has swapped nothing itself: \
                        host swapping is invisible to it, except that some memory accesses now take a disk read.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation(
                            "the host swaps the VM down to its limit", v.guest("vm").vm.hostSwapped > 0 && v.guest("vm").vm.consumed <= 96 * 256 + 256),
                        DemoExpectation("the guest has not swapped anything", v.guest("vm").vmstat.pswpout == 0),
                    ]
                }),
            DemoStep(
                "the guest swaps too: double paging", stop: .at(.ms(3000)),
                narrate: { v in
                    let g = v.guest("vm")
                    let dp = v.delta("vm") { $0.vm.stats.doublePaging }, out = v.delta("vm") { $0.vmstat.pswpout }
                    return """
                        Now the heap no longer fits in the guest's RAM either: MemFree is at the watermarks \
                        (\(g.meminfo.MemFree) kB) and the guest's kswapd swaps anonymous pages out (\(out) swap-outs, Swap \
                        used \(DemoText.mib(kb: g.swapUsedKB))). The guest picks its coldest pages, and cold pages are exactly \
                        those the host's random victim selection has had time to swap. \(dp) of the guest's pageouts \
                        (\(out > 0 ? dp * 100 / out : 0)%) hit a page that was in the host swap file: the host read it back \
                        (a host swap-in) so the guest could copy it to its own swap. Double paging.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("the guest swaps", v.delta("vm") { $0.vmstat.pswpout } > 0),
                        DemoExpectation("guest pageouts hit host-swapped pages (double paging)", v.delta("vm") { $0.vm.stats.doublePaging } > 0),
                        DemoExpectation("the host swaps pages back in", v.delta("vm") { $0.vm.stats.swapIns } > 0),
                    ]
                }),
            DemoStep(
                "two levels of paging", stop: .at(.ms(8000)),
                narrate: { v in
                    let seconds = Double(v.now.timeNs - v.before.timeNs) / 1e9
                    let hin = Double(v.delta("vm") { $0.vm.stats.swapIns }) / seconds
                    let gin = Double(v.delta("vm") { $0.vmstat.pswpin }) / seconds
                    let g = v.guest("vm")
                    return """
                        The job keeps sweeping: \(formatFixed(gin, 0)) guest swap-ins and \(formatFixed(hin, 0)) host swap-ins \
                        per second. A page can now be in the guest's swap, in the host's swap, or (worst) both: the guest's \
                        swap holds \(DemoText.mib(kb: g.swapUsedKB)) and the host's \(DemoText.mib(pages: g.vm.hostSwapped)). \
                        Ballooning avoids this by letting the guest choose what to give up, so the host does not have to \
                        guess. That is why ESX swaps only as a last resort: in the hard and low states (see the \
                        reclaim-cascade demo), or, as here, to hold a VM without a balloon driver to its limit.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("both levels keep paging", v.delta("vm") { $0.vm.stats.swapIns } > 0 && v.delta("vm") { $0.vmstat.pswpin } > 0)
                    ]
                }),
        ])
}
