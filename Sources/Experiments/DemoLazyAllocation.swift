import OvercommitSupport

extension DemoScripts {
    /// Demand paging and the zero page: Linux's `do_anonymous_page`, in the guest and on the host.
    static let lazyAllocation = DemoScript(
        title: "Lazy allocation and the zero page",
        summary: "mmap reserves, reads map the zero page, writes allocate",
        introduction: """
            A process in a 128 MiB guest maps 2 MiB of anonymous memory, reads every page, writes the first 128 pages, \
            writes them again and exits (Configs/demos/traces/lazy-allocation.trace, replayed one reference per 10 ms). \
            Linux hands out memory lazily: mmap() only records a range (a VMA); the page fault handler \
            (do_anonymous_page) supplies a page when the process first touches it. The host does the same one level \
            down: a guest frame gets machine memory only when the guest first touches it (large pages are off here, so \
            the host backs 4 KiB at a time).
            """,
        sources: [
            "Linux mm/memory.c: do_anonymous_page() (a read maps the shared zero page, a write allocates a zeroed frame), handle_mm_fault().",
            "Linux mm/mmap.c: do_brk_flags() and mmap_region() only create or grow a VMA; no frame is allocated.",
            "malloc(3), brk(2) and mmap(2) manual pages (man7.org/linux/man-pages).",
        ],
        counters: [\.vmstat.pgfault, \.vmstat.zeroPageMaps, \.vmstat.zeroFills, \.liveProcesses],
        steps: [
            DemoStep(
                "the guest has booted", stop: .at(.ms(450)),
                narrate: { v in
                    let g = v.guest("vm")
                    return """
                        The guest kernel booted and read its image's files into the page cache (Cached \
                        \(DemoText.mib(kb: g.meminfo.Cached))). Of its \(DemoText.mib(pages: g.configuredPages)) the host backs \
                        only the frames the guest has touched: \(DemoText.mib(pages: g.vm.consumed)). The rest of the VM's bar is \
                        '.', memory the guest owns but the host never had to provide.
                        """
                },
                expect: { v in
                    let g = v.guest("vm")
                    return [
                        DemoExpectation(
                            "the host backs less than the guest's configured memory (consumed \(g.vm.consumed) < \(g.configuredPages) pages)",
                            g.vm.consumed < g.configuredPages)
                    ]
                }),
            DemoStep(
                "mmap 2 MiB, read one page", stop: .traceMark(guest: "vm", "mapped"),
                narrate: { v in
                    let c = v.delta("vm") { $0.meminfo.Committed_AS }, a = v.delta("vm") { $0.meminfo.AnonPages }
                    let z = v.delta("vm") { $0.vmstat.zeroPageMaps }
                    return """
                        The process called mmap() for 2 MiB. The kernel only created a VMA and charged it to the commit \
                        count: Committed_AS grew by \(c) kB, AnonPages by \(a) kB. Then it read the first page: a page fault, \
                        and do_anonymous_page(), seeing a read of a page that was never written, mapped the shared zero page \
                        read-only (zero_page_maps +\(z)) instead of allocating a frame.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("mmap charges 2 MiB to Committed_AS", v.delta("vm") { $0.meminfo.Committed_AS } == 2048),
                        DemoExpectation("no anonymous page is allocated", v.delta("vm") { $0.meminfo.AnonPages } == 0),
                        DemoExpectation("the read maps the zero page once", v.delta("vm") { $0.vmstat.zeroPageMaps } == 1),
                    ]
                }),
            DemoStep(
                "read the other 511 pages", stop: .traceMark(guest: "vm", "read"),
                narrate: { v in
                    let f = v.delta("vm") { $0.vmstat.pgfault }, z = v.delta("vm") { $0.vmstat.zeroPageMaps }
                    let free = v.delta("vm") { $0.meminfo.MemFree }
                    return """
                        The process read the remaining pages of the mapping: \(f) page faults, \(z) of them mapped the zero \
                        page. Every PTE points at the same physical page of zeros, so reading 2 MiB cost no memory: \
                        AnonPages did not move, and MemFree changed by \(free) kB (page-table pages, if anything). \
                        A program that reads memory it never wrote, like a sparse array, stays small.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("511 reads map the zero page", v.delta("vm") { $0.vmstat.zeroPageMaps } == 511),
                        DemoExpectation("AnonPages does not change", v.delta("vm") { $0.meminfo.AnonPages } == 0),
                        DemoExpectation("no frame is zero-filled", v.delta("vm") { $0.vmstat.zeroFills } == 0),
                    ]
                }),
            DemoStep(
                "write the first 128 pages", stop: .traceMark(guest: "vm", "written"),
                narrate: { v in
                    let zf = v.delta("vm") { $0.vmstat.zeroFills }, a = v.delta("vm") { $0.meminfo.AnonPages }
                    let free = v.delta("vm") { $0.meminfo.MemFree }, hc = v.delta("vm") { $0.vm.consumed }
                    return """
                        Now the process wrote 128 of those pages. Each write hits a read-only PTE of the zero page; the \
                        write fault (do_wp_page) allocates a fresh frame from the buddy allocator, zeroes it and maps it \
                        writable: \(zf) zero-filled frames, AnonPages +\(a) kB, MemFree \(free) kB. On the host, guest \
                        frames that had never been touched get machine memory on this first touch: consumed \
                        \(DemoText.signed(hc)) pages.
                        """
                            + (hc == 128
                                ? " Every one of the 128 frames was new to the host."
                                : " The other \(128 - hc) frames had been used by the guest before (e.g. freed page cache), so the host already backed them.")
                },
                expect: { v in
                    [
                        DemoExpectation("each first write allocates exactly one frame (128 zero-fills)", v.delta("vm") { $0.vmstat.zeroFills } == 128),
                        DemoExpectation("AnonPages grows by 128 pages (512 kB)", v.delta("vm") { $0.meminfo.AnonPages } == 512),
                        DemoExpectation("the host backs at most 128 new pages for them", (0...128).contains(v.delta("vm") { $0.vm.consumed })),
                    ]
                }),
            DemoStep(
                "write the same pages again", stop: .traceMark(guest: "vm", "rewritten"),
                narrate: { v in
                    let f = v.delta("vm") { $0.vmstat.pgfault }
                    return """
                        Writing the same 128 pages again finds writable PTEs pointing at private frames: the MMU completes \
                        every access without the kernel (\(f) page faults in this step). Only first touches cost anything.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("no page fault", v.delta("vm") { $0.vmstat.pgfault } == 0),
                        DemoExpectation("AnonPages does not change", v.delta("vm") { $0.meminfo.AnonPages } == 0),
                    ]
                }),
            DemoStep(
                "the process exits", stop: .finished(guest: "vm"),
                narrate: { v in
                    let a = v.delta("vm") { $0.meminfo.AnonPages }, c = v.delta("vm") { $0.meminfo.Committed_AS }
                    let free = v.delta("vm") { $0.meminfo.MemFree }, hc = v.delta("vm") { $0.vm.consumed }
                    return """
                        The process exited: its frames went back to the guest's free lists (AnonPages \(a) kB, MemFree \
                        +\(free) kB) and its commitment was released (Committed_AS \(c) kB). The host did not get anything \
                        back: consumed changed by \(hc) pages. A guest's free memory still occupies machine memory, and the \
                        host cannot tell free from used guest frames; that is why hypervisors need ballooning, sharing \
                        (zero pages) or swapping to reclaim it (see the ballooning and page-sharing demos).
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("exit frees the 128 frames", v.delta("vm") { $0.meminfo.AnonPages } == -512),
                        DemoExpectation("exit releases the 2 MiB commitment", v.delta("vm") { $0.meminfo.Committed_AS } == -2048),
                        DemoExpectation("the host's consumed memory does not shrink", v.delta("vm") { $0.vm.consumed } >= 0),
                    ]
                }),
        ])
}
