import OvercommitSupport

extension DemoScripts {
    /// Transparent page sharing: Linux KSM's stable and unstable trees (`ksm_do_scan`,
    /// `cmp_and_merge_page`), ESX's content-based sharing and its salting (Mem.ShareForceSalting).
    static let pageSharing = DemoScript(
        title: "Page sharing across identical VMs, and salting",
        summary: "KSM merges identical pages across VMs; ESX salting",
        introduction: """
            Three 256 MiB guests boot from the same image (kernel, libc, nginx, 32 MiB of web content) and run a few idle \
            daemons. The host scans their memory like Linux KSM: it hashes each page (xxHash); a page whose hash is \
            stable between two visits goes into the unstable tree; when another page with the same bytes (compared in \
            full, memcmp) turns up, both are merged into one read-only frame in the stable tree and every later copy \
            just maps that frame. A guest write to a shared page faults on the host, which gives the writer a private \
            copy again (copy-on-write). Salting (VMware's Mem.ShareForceSalting 2, the default since 2014 after \
            cross-VM side channels): only VMs with the same sched.mem.pshare.salt may share. blue-1 and blue-2 carry \
            salt 'blue'; red has none, so its salt is its own. Zero pages are shared with one host-wide zero frame \
            whatever the salt.
            """,
        sources: [
            "Linux mm/ksm.c: ksm_do_scan(), cmp_and_merge_page(), the stable and unstable trees; Documentation/admin-guide/mm/ksm.rst (pages_shared, pages_sharing, ksm_zero_pages).",
            "C. A. Waldspurger, \"Memory Resource Management in VMware ESX Server\", OSDI 2002, section 4 (content-based page sharing).",
            "VMware KB 2080735, \"Security considerations and disallowing inter-Virtual Machine Transparent Page Sharing\" (Mem.ShareForceSalting).",
        ],
        counters: [\.host.cowBreaks],
        steps: [
            DemoStep(
                "three VMs have booted", stop: .at(.ms(450)),
                narrate: { v in
                    let h = v.now.host
                    return """
                        The guests booted and read the same image files, so much of their memory holds the same bytes. The \
                        scanner has started: \(h.pagesScanned) pages scanned. Zero pages (never-written or cleared guest \
                        memory the host did back) merge at the first visit into the host-wide zero frame \
                        (ksm_zero_pages \(h.zeroPagesSharing)); nothing else is shared yet (pages_shared \
                        \(h.pagesShared)): the first visit only records each page's checksum.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("no non-zero page is shared before the scanner has seen a page twice", v.now.host.pagesShared == 0)
                    ]
                }),
            DemoStep(
                "the first full scan ends", stop: .at(.ms(2000)),
                narrate: { v in
                    let h = v.now.host
                    return """
                        After \(h.fullScans) full scan (\(h.pagesScanned) pages scanned in all) the scanner has a checksum for \
                        every page. Pages whose checksum changed between visits are volatile (pages_volatile \
                        \(h.pagesVolatile)): the daemons keep writing them, and merging them would only cause \
                        copy-on-write faults. Stable pages go into the unstable tree, a tree rebuilt every pass and sorted by \
                        content (pages_unshared \(h.pagesUnshared)). Still pages_shared \(h.pagesShared).
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("a full scan completed", v.now.host.fullScans >= 1),
                        DemoExpectation("candidates wait in the unstable tree", v.now.host.pagesUnshared > 0),
                    ]
                }),
            DemoStep(
                "identical pages merge", stop: .at(.ms(3000)),
                narrate: { v in
                    let h = v.now.host, b1 = v.guest("blue-1"), b2 = v.guest("blue-2"), r = v.guest("red")
                    let saved = h.pagesSharing
                    return """
                        On the second pass the scanner found pages matching unstable-tree entries, compared all 4096 bytes, \
                        and merged them: pages_shared \(h.pagesShared) stable-tree frames now stand for pages_sharing \
                        \(h.pagesSharing) more mappings, saving \(DemoText.mib(pages: saved)) plus \
                        \(DemoText.mib(pages: h.zeroPagesSharing)) of zero pages (host free \
                        \(DemoText.signed(v.hostDelta { $0.free } * 4 / 1024)) MiB in this step). blue-1 maps \
                        \(DemoText.mib(pages: b1.vm.shared - b1.vm.zeroShared)) and blue-2 \
                        \(DemoText.mib(pages: b2.vm.shared - b2.vm.zeroShared)) of non-zero shared pages (the '=' in their \
                        bars): the same libc, nginx and web pages, held once. red runs the same image but its salt differs, \
                        so it shares only zero pages (\(DemoText.mib(pages: r.vm.zeroShared))) and \
                        \(DemoText.mib(pages: r.vm.shared - r.vm.zeroShared)) of anything else.
                        """
                },
                expect: { v in
                    let b1 = v.guest("blue-1"), b2 = v.guest("blue-2"), r = v.guest("red")
                    return [
                        DemoExpectation("pages are merged in the stable tree", v.now.host.pagesShared > 0 && v.now.host.pagesSharing > 0),
                        DemoExpectation(
                            "blue-1 and blue-2 share non-zero pages", b1.vm.shared - b1.vm.zeroShared > 1024 && b2.vm.shared - b2.vm.zeroShared > 1024),
                        DemoExpectation(
                            "salting keeps red's non-zero pages out of the blue VMs' frames",
                            r.vm.shared - r.vm.zeroShared < (b1.vm.shared - b1.vm.zeroShared) / 10),
                        DemoExpectation("sharing gave memory back to the host", v.hostDelta { $0.free } > 0),
                    ]
                }),
            DemoStep(
                "writes break sharing", stop: .at(.ms(6000)),
                narrate: { v in
                    let h = v.now.host
                    let breaks = v.now.guests.reduce(0) { $0 + $1.vm.stats.cowBreaks } - v.before.guests.reduce(0) { $0 + $1.vm.stats.cowBreaks }
                    return """
                        The daemons keep writing some of their pages. When a guest writes a page that is mapped to a shared \
                        frame, the host write-protected it, so the write faults into the hypervisor, which copies the frame \
                        for that guest (\(breaks) copy-on-write breaks in this step, cow_breaks per VM below). The \
                        guests never notice, apart from the fault's time. Sharing stays high because code and file pages are \
                        read, not written: pages_sharing \(h.pagesSharing), \(h.fullScans) full scans so far.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation(
                            "guest writes break shared pages", v.now.guests.contains { $0.vm.stats.cowBreaks > v.before.guest($0.name).vm.stats.cowBreaks }),
                        DemoExpectation("most sharing survives", v.now.host.pagesSharing * 2 > v.before.host.pagesSharing),
                    ]
                }),
        ])
}
