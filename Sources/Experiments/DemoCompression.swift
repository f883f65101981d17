import OvercommitSupport

extension DemoScripts {
    /// The host compression cache: ESX memory compression (a page is kept only if it compresses
    /// to at most 2 KiB), like Linux zswap in front of swap; LZ4 run on the page's real bytes.
    static let compression = DemoScript(
        title: "Compression: accepting and rejecting pages",
        summary: "host compression: pages under 2 KiB stay, others swap",
        introduction: """
            A 256 MiB guest without a balloon driver has an ESX limit (sched.mem.max) of 112 MiB: the host will not let \
            it consume more machine memory than that. Its batch job grows a heap to 144 MiB (40% text, 20% sparse, 40% \
            random bytes) and sweeps it. Without a balloon the host has to page the VM out itself. Before it writes a \
            page to the VM's swap file, it compresses the page's 4096 bytes (LZ4 here) and keeps the result in a \
            per-VM compression cache if it fits under half a page, 2 KiB (ESX's rule; Linux zswap plays the same role \
            in front of a swap device). A page that does not fit is rejected and swapped. Reading a compressed page \
            back costs a decompression, microseconds; a swapped one costs a device read.
            """,
        sources: [
            "VMware, \"Understanding Memory Resource Management in VMware vSphere 5.0\" (technical white paper, 2011), \"Memory Compression\": a page is kept compressed only if it fits in 2 KiB; Mem.MemZipMaxPct caps the cache at 10 % of the VM.",
            "Linux mm/zswap.c: zswap_store(), a compressed cache in front of swap; Documentation/admin-guide/mm/zswap.rst.",
            "LZ4 block format (github.com/lz4/lz4, doc/lz4_Block_format.md): the codec run on each page's bytes.",
        ],
        counters: [\.host.compressions, \.host.compressionRejects, \.host.decompressions, \.host.hostSwapOuts, \.host.hostSwapIns, \.vmstat.pswpout],
        steps: [
            DemoStep(
                "the guest has booted", stop: .at(.ms(450)),
                narrate: { v in
                    let g = v.guest("vm")
                    return """
                        The guest booted; the host backs \(DemoText.mib(pages: g.vm.consumed)) of it, below the \
                        \(DemoText.mib(pages: 112 * 256)) limit. The batch job starts at 0.5 s.
                        """
                }),
            DemoStep(
                "the heap grows toward the limit", stop: .at(.ms(1200)),
                narrate: { v in
                    let g = v.guest("vm")
                    return """
                        The heap grew (AnonPages \(DemoText.signed(v.delta("vm") { $0.meminfo.AnonPages / 1024 })) MiB) and every \
                        new page was backed on first touch: consumed \(DemoText.mib(pages: g.vm.consumed)). Nothing has been \
                        compressed or swapped yet.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("no host paging below the limit", v.guest("vm").vm.stats.compressions == 0 && v.guest("vm").vm.hostSwapped == 0)
                    ]
                }),
            DemoStep(
                "over the limit: compress or swap", stop: .at(.ms(2500)),
                narrate: { v in
                    let g = v.guest("vm")
                    let acc = v.delta("vm") { $0.vm.stats.compressions }, rej = v.delta("vm") { $0.vm.stats.compressionRejects }
                    let avg = g.vm.compressed > 0 ? g.vm.compressedBytes / g.vm.compressed : 0
                    return """
                        The VM reached its limit, so for every new page it touches the host must take one away. It picks \
                        victim pages at random (it cannot know which ones the guest values) and compresses each: \(acc) \
                        pages fit under 2 KiB and went to the compression cache, \(rej) did not and went to the swap file. \
                        Whether a page fits depends on its bytes: sparse pages shrink to almost nothing, random bytes not at \
                        all, and LZ4 is asked to fit the page into 2 KiB or fail, so a hopeless page costs little. The cache holds \
                        \(DemoText.mib(pages: g.vm.compressed)) of guest pages in \(g.vm.compressedBytes) bytes (\(avg) bytes \
                        per page on average) using \(DemoText.mib(pages: g.vm.cacheFrames)) of machine memory; \
                        \(DemoText.mib(pages: g.vm.hostSwapped)) is in the swap file. The guest sees none of this: its \
                        MemFree is \(DemoText.mib(kb: g.meminfo.MemFree)) and it has swapped nothing itself \
                        (pswpout \(g.vmstat.pswpout)).
                        """
                },
                expect: { v in
                    let g = v.guest("vm")
                    return [
                        DemoExpectation("some pages are compressed (accepted)", v.delta("vm") { $0.vm.stats.compressions } > 0),
                        DemoExpectation("some pages are rejected and swapped", v.delta("vm") { $0.vm.stats.compressionRejects } > 0 && g.vm.hostSwapped > 0),
                        DemoExpectation("every cached page fits under half a page", g.vm.compressed == 0 || g.vm.compressedBytes <= g.vm.compressed * 2048),
                        DemoExpectation("the VM stays at its limit", g.vm.consumed <= 112 * 256 + 256),
                    ]
                }),
            DemoStep(
                "the sweeps read pages back", stop: .at(.ms(6000)),
                narrate: { v in
                    let g = v.guest("vm")
                    let dec = v.delta("vm") { $0.vm.stats.decompressions }, sin = v.delta("vm") { $0.vm.stats.swapIns }
                    return """
                        The job sweeps its heap, touching pages the host took away. A compressed page comes back by \
                        decompression (\(dec) in this step, a few microseconds each); a swapped one by a read from the host's \
                        SSD (\(sin) host swap-ins, each a host-level major fault the guest perceives as a slow memory access). \
                        Each page brought back pushes another out, so compressions (\(DemoText.signed(v.delta("vm") { $0.vm.stats.compressions }))) \
                        and rejects (\(DemoText.signed(v.delta("vm") { $0.vm.stats.compressionRejects }))) continue. Of all the \
                        pages the host tried to compress, \(g.vm.stats.compressions * 100 / max(1, g.vm.stats.compressions + g.vm.stats.compressionRejects))% \
                        fitted: compression saves a device read only for pages that compress.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("compressed pages are decompressed on access", v.delta("vm") { $0.vm.stats.decompressions } > 0),
                        DemoExpectation("rejected pages come back from host swap", v.delta("vm") { $0.vm.stats.swapIns } > 0),
                    ]
                }),
        ])
}
