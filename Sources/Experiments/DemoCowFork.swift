import OvercommitSupport

extension DemoScripts {
    /// fork() and copy-on-write: Linux's `copy_page_range` at fork and `do_wp_page` /
    /// `wp_page_copy` on the first write to a shared anonymous page.
    static let cowFork = DemoScript(
        title: "Copy-on-write after fork",
        summary: "fork shares pages; the first write to one copies it",
        introduction: """
            A parent process in a 128 MiB guest writes 64 pages, then forks. The child reads all 64 pages, writes one, \
            then 15 more; the parent writes a page it still shares; the child exits and the parent writes another \
            formerly shared page (Configs/demos/traces/cow-fork.trace, one reference per 10 ms). \
            Linux's fork() copies the page tables (copy_page_range), not the pages: both processes map the same \
            frames read-only, and a write fault (do_wp_page) copies a page only if someone else still maps it.
            """,
        sources: [
            "Linux mm/memory.c: copy_page_range() at fork (the PTEs are copied write-protected), do_wp_page() and wp_page_copy() on the first write.",
            "Linux kernel/fork.c: copy_process(), dup_mmap().",
            "fork(2) and vfork(2) manual pages (man7.org/linux/man-pages).",
        ],
        counters: [\.vmstat.pgfault, \.vmstat.zeroFills, \.vmstat.cowCopies, \.liveProcesses],
        showHost: false,
        steps: [
            DemoStep(
                "the guest has booted", stop: .at(.ms(450)),
                narrate: { v in
                    let g = v.guest("vm")
                    return """
                        The guest booted: init runs (\(g.processes.count) process), the image's files are in the page cache \
                        (Cached \(DemoText.mib(kb: g.meminfo.Cached))) and AnonPages is \(g.meminfo.AnonPages) kB. The trace \
                        starts at 0.5 s.
                        """
                }),
            DemoStep(
                "the parent writes 64 pages", stop: .traceMark(guest: "vm", "parent-wrote"),
                narrate: { v in
                    let zf = v.delta("vm") { $0.vmstat.zeroFills }, a = v.delta("vm") { $0.meminfo.AnonPages }
                    return """
                        The parent mapped 2 MiB and wrote its first 64 pages: \(zf) zero-filled frames, AnonPages \
                        +\(a) kB. These frames belong to the parent alone (map count 1).
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("64 first writes allocate 64 frames", v.delta("vm") { $0.vmstat.zeroFills } == 64),
                        DemoExpectation("AnonPages grows by 256 kB", v.delta("vm") { $0.meminfo.AnonPages } == 256),
                    ]
                }),
            DemoStep(
                "fork; the child reads the 64 pages", stop: .traceMark(guest: "vm", "child-read"),
                narrate: { v in
                    let a = v.delta("vm") { $0.meminfo.AnonPages }, c = v.delta("vm") { $0.meminfo.Committed_AS }
                    let f = v.delta("vm") { $0.vmstat.pgfault }, p = v.delta("vm") { $0.processes.count }
                    return """
                        The parent forked (processes +\(p)). fork() duplicated the parent's mappings and page tables; every \
                        anonymous page is now mapped by both processes, write-protected in both. The child read all 64 \
                        pages with \(f) page faults and AnonPages changed by \(a) kB: reading shared pages costs nothing. \
                        The kernel did charge the child's private writable mapping to the commit count (Committed_AS \
                        \(DemoText.signed(c)) kB): if every page were written, each would need its own copy.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("fork allocates no anonymous page", v.delta("vm") { $0.meminfo.AnonPages } == 0),
                        DemoExpectation("no copy-on-write copy yet", v.delta("vm") { $0.vmstat.cowCopies } == 0),
                        DemoExpectation("a second process exists", v.delta("vm") { $0.processes.count } == 1),
                    ]
                }),
            DemoStep(
                "the child writes one page", stop: .traceMark(guest: "vm", "child-wrote-one"),
                narrate: { v in
                    let cc = v.delta("vm") { $0.vmstat.cowCopies }, a = v.delta("vm") { $0.meminfo.AnonPages }
                    let free = v.delta("vm") { $0.meminfo.MemFree }
                    return """
                        The child wrote page 0. The PTE is read-only, so the CPU faults; do_wp_page() sees the page is also \
                        mapped by the parent and calls wp_page_copy(): allocate a frame, copy 4 KiB, point the child's PTE \
                        at the copy, writable. cow_copies +\(cc), AnonPages +\(a) kB, MemFree \(free) kB: the child's write \
                        broke COW for exactly one page, and one new frame.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("the child's write breaks COW: one copy", v.delta("vm") { $0.vmstat.cowCopies } == 1),
                        DemoExpectation("one new frame (AnonPages +4 kB)", v.delta("vm") { $0.meminfo.AnonPages } == 4),
                    ]
                }),
            DemoStep(
                "the child writes 15 more pages", stop: .traceMark(guest: "vm", "child-wrote-16"),
                narrate: { v in
                    let cc = v.delta("vm") { $0.vmstat.cowCopies }, a = v.delta("vm") { $0.meminfo.AnonPages }
                    let g = v.guest("vm")
                    return """
                        The child wrote pages 1 to 15, and page 0 once more. Fifteen more copies (cow_copies +\(cc), \
                        AnonPages +\(a) kB); the second write to page 0 found the child's own writable copy and did not \
                        fault. The two processes now share 48 pages and hold 16 private copies each way: total anonymous \
                        memory is \(g.meminfo.AnonPages) kB, far less than two full copies would take.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("15 more copies, not 16 (page 0 is already the child's)", v.delta("vm") { $0.vmstat.cowCopies } == 15),
                        DemoExpectation("AnonPages grows by 60 kB", v.delta("vm") { $0.meminfo.AnonPages } == 60),
                    ]
                }),
            DemoStep(
                "the parent writes a page it shares", stop: .traceMark(guest: "vm", "parent-wrote-shared"),
                narrate: { v in
                    let cc = v.delta("vm") { $0.vmstat.cowCopies }
                    return """
                        Copy-on-write is symmetric: the parent's PTEs were write-protected at fork too. The parent wrote \
                        page 32, still mapped by the child, so the parent gets the copy (cow_copies +\(cc)) and the child \
                        keeps the original frame.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("the parent's write to a shared page copies it", v.delta("vm") { $0.vmstat.cowCopies } == 1)
                    ]
                }),
            DemoStep(
                "the child exits; the parent writes page 40", stop: .traceMark(guest: "vm", "child-exited"),
                narrate: { v in
                    let cc = v.delta("vm") { $0.vmstat.cowCopies }, a = v.delta("vm") { $0.meminfo.AnonPages }
                    let f = v.delta("vm") { $0.vmstat.pgfault }
                    return """
                        The child exited: its 16 private copies were freed, and so was the original frame of page 32, which \
                        only the child still mapped after the parent's copy; its mappings of the other shared frames were \
                        dropped (AnonPages \(a) kB = 17 frames). Then the parent wrote page 40. Its PTE is \
                        still write-protected from the fork, so it faults (\(f) fault), but do_wp_page() finds the frame \
                        mapped only once now and reuses it in place: cow_copies +\(cc).
                        """
                },
                expect: { v in
                    [
                        DemoExpectation(
                            "the exit frees the child's 16 copies and the page-32 original (AnonPages -68 kB)", v.delta("vm") { $0.meminfo.AnonPages } == -68),
                        DemoExpectation("an exclusive page is reused, not copied", v.delta("vm") { $0.vmstat.cowCopies } == 0),
                    ]
                }),
            DemoStep(
                "the parent exits", stop: .finished(guest: "vm"),
                narrate: { v in
                    let a = v.delta("vm") { $0.meminfo.AnonPages }
                    return """
                        The parent exited and its 64 pages (63 originals and its copy of page 32) went back to the free \
                        lists (AnonPages \(a) kB). Over the whole story the fork cost 17 frames, one per page written \
                        while shared, not a copy of all 64.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("the parent's 64 frames are freed", v.delta("vm") { $0.meminfo.AnonPages } == -256),
                        DemoExpectation("17 copies in all", v.guest("vm").vmstat.cowCopies - v.start.guest("vm").vmstat.cowCopies == 17),
                    ]
                }),
        ])
}
