import GuestKernel
import HostPolicies
import Hypervisor
import OvercommitSupport
import Scenarios
import Simulation

/// Turns a `SimulationResult` into the files of an output directory and the console lines.
///
/// Files (after gem5's m5out): `scenario.resolved.yaml` (every default filled in),
/// `summary.json`, `timeseries.csv` (one row per guest per sample), `events.jsonl`,
/// `stats.txt` (name, value, unit, description). Only simulated quantities appear: no wall
/// clock, no host names, so the same scenario and seed give byte-identical files.
public enum RunReport {
    /// Every output file as (name, contents), in a fixed order.
    public static func files(_ r: SimulationResult) -> [(name: String, contents: String)] {
        [
            ("scenario.resolved.yaml", ScenarioRenderer.yaml(r.config)),
            ("summary.json", summaryJSON(r).rendered(indent: 2) + "\n"),
            ("timeseries.csv", timeseriesCSV(r)),
            ("host_timeseries.csv", hostTimeseriesCSV(r)),
            ("events.jsonl", eventsJSONL(r)),
            ("stats.txt", statsText(r)),
        ]
    }

    static func mib(_ pages: Int) -> String { formatFixed(Double(pages) / 256, 1) + "MiB" }
    static func kbToMiB(_ kb: Int) -> String { formatFixed(Double(kb) / 1024, 1) + "MiB" }

    /// One stable, greppable line per guest and one for the host.
    public static func consoleLines(_ r: SimulationResult) -> [String] {
        var lines: [String] = []
        for g in r.guests {
            let m = g.meminfo
            let v = g.vmstat
            lines.append("guest \(g.name) configured=\(mib(g.configuredPages)) consumed=\(mib(g.hostConsumedPages)) "
                + "free=\(kbToMiB(m.MemFree)) cached=\(kbToMiB(m.Cached)) anon=\(kbToMiB(m.AnonPages)) "
                + "swap_used=\(kbToMiB(m.SwapTotal - m.SwapFree)) committed=\(kbToMiB(m.Committed_AS)) "
                + "accesses=\(v.accesses) faults=\(v.pgfault) major=\(v.pgmajfault) swap_in=\(v.pswpin) swap_out=\(v.pswpout) "
                + "oom_kills=\(v.oom_kill) refused=\(v.refusedAllocations) eat=\(formatFixed(g.eatNs, 1))ns "
                + "slowdown=\(formatFixed(g.slowdown, 3))" + (g.panicked ? " panicked=yes" : "") + (g.poweredOn ? "" : " powered_on=no"))
            let h = g.host
            lines.append("vm \(g.name) consumed=\(mib(h.consumed)) private=\(mib(h.privateFrames)) shared=\(mib(h.shared)) "
                + "ballooned=\(mib(h.ballooned)) compressed=\(mib(h.compressed)) (\(mib(h.cacheFrames)) cache) "
                + "host_swapped=\(mib(h.hostSwapped)) guest_swapped=\(kbToMiB(m.SwapTotal - m.SwapFree)) "
                + (h.activePeriods > 0 ? "active_est=\(mib(h.activeEstimated)) active_true=\(mib(h.activeTrue)) " : "active=unsampled ")
                + "large_pages=\(h.largePages) "
                + "cow_breaks=\(h.stats.cowBreaks) host_swap_ins=\(h.stats.swapIns) double_paging=\(h.stats.doublePaging)")
        }
        let h = r.host
        lines.append("host \(r.config.host.name) ram=\(mib(r.hostTotalPages)) free=\(mib(r.hostFreePages)) "
            + "consumed=\(mib(r.hostConsumedPages)) overhead=\(mib(r.hostOverheadPages + r.hostHypervisorPages)) "
            + "guests=\(r.guests.count) simulated=\(formatFixed(Double(r.simulatedNs) / 1e9, 3))s "
            + "out_of_memory=\(r.hostOutOfMemory ? "yes" : "no")")
        lines.append("host \(r.config.host.name) state=\(h.state.rawValue) min_free=\(mib(h.minFree)) "
            + "pages_shared=\(h.pagesShared) pages_sharing=\(h.pagesSharing) zero_pages_sharing=\(h.zeroPagesSharing) "
            + "saved_by_sharing=\(mib(h.pagesSharing + h.zeroPagesSharing)) ballooned=\(mib(h.ballooned)) "
            + "compressed=\(mib(h.compressed)) host_swapped=\(mib(h.hostSwapped)) large_pages=\(h.largePages) "
            + "scan_cpu=\(formatFixed(Double(h.scanCPUNs) / 1e9, 3))s compress_cpu=\(formatFixed(Double(h.compressorCPUNs) / 1e9, 3))s")
        return lines
    }

    static func meminfoJSON(_ m: Meminfo) -> JSONValue {
        .object(m.fields.map { ($0.0, .int($0.1)) })
    }

    public static func summaryJSON(_ r: SimulationResult) -> JSONValue {
        let guests: [JSONValue] = r.guests.map { g in
            let v = g.vmstat
            return .object([
                ("name", .string(g.name)),
                ("configured_kb", .int(g.configuredPages * 4)),
                ("vcpus", .int(g.vcpus)),
                ("powered_on", .bool(g.poweredOn)),
                ("panicked", .bool(g.panicked)),
                ("host_consumed_kb", .int(g.hostConsumedPages * 4)),
                ("host_consumed_peak_kb", .int(g.peakHostConsumedPages * 4)),
                ("eat_ns", .double(g.eatNs)),
                ("slowdown", .double(g.slowdown)),
                ("host_view", .object(vmHostFields(g.host).map { ($0.name, .int($0.value)) })),
                ("meminfo", meminfoJSON(g.meminfo)),
                ("vmstat", .object(vmstatFields(v).map { ($0.name, .int($0.value)) })),
                ("buddyinfo", .array(g.buddyinfo.map { .int($0) })),
                ("processes", .array(g.processes.map { p in
                    .object([("pid", .int(Int(p.pid))), ("name", .string(p.name)), ("rss_kb", .int(p.rssPages * 4)),
                             ("swap_kb", .int(p.swapPages * 4)), ("page_tables_kb", .int(p.pageTablePages * 4)),
                             ("oom_score", .int(p.oomScore)), ("oom_score_adj", .int(p.oomScoreAdj))])
                })),
                ("workloads", .array(g.workloads.map { w in
                    .object([("kind", .string(w.kind))] + w.stats.entries.map { ($0.name, .double($0.value)) })
                })),
            ])
        }
        return .object([
            ("scenario", .string(r.config.name)),
            ("seed", .int(Int64(bitPattern: r.config.seed))),
            ("simulated_seconds", .double(Double(r.simulatedNs) / 1e9)),
            ("ended_early", r.endedEarly.map { .string($0) } ?? .null),
            ("partial", .bool(r.partial)),
            ("host", .object([
                ("name", .string(r.config.host.name)),
                ("ram_kb", .int(r.hostTotalPages * 4)),
                ("free_kb", .int(r.hostFreePages * 4)),
                ("consumed_kb", .int(r.hostConsumedPages * 4)),
                ("overhead_kb", .int(r.hostOverheadPages * 4)),
                ("hypervisor_kb", .int(r.hostHypervisorPages * 4)),
                ("out_of_memory", .bool(r.hostOutOfMemory)),
                ("state", .string(r.host.state.rawValue)),
            ] + hostFields(r.host).map { ($0.name, .int($0.value)) })),
            ("guests", .array(guests)),
            ("events", .object(eventCounts(r).map { ($0.0, .int($0.1)) })),
            ("checks", .object([("run", .int(r.checksRun)), ("problems", .array(r.checkProblems.map { .string($0) }))])),
        ])
    }

    static func eventCounts(_ r: SimulationResult) -> [(String, Int)] {
        var kinds: [String] = []
        var counts: [Int] = []
        for e in r.events {
            if let i = kinds.firstIndex(of: e.kind) { counts[i] += 1 } else { kinds.append(e.kind); counts.append(1) }
        }
        return zip(kinds, counts).sorted { $0.0 < $1.0 }
    }

    static func vmstatFields(_ v: VMStat) -> [(name: String, value: Int, summary: String)] {
        [
            ("accesses", v.accesses, "memory references and one-page file I/O calls"),
            ("pgfault", v.pgfault, "page faults (minor and major)"),
            ("pgmajfault", v.pgmajfault, "major faults (swap-in or file read)"),
            ("zero_fill", v.zeroFills, "first writes that zero-filled a frame"),
            ("cow_copy", v.cowCopies, "copy-on-write copies"),
            ("zero_page_map", v.zeroPageMaps, "reads that mapped the shared zero page"),
            ("pswpin", v.pswpin, "pages read from swap (incl. readahead)"),
            ("pswpout", v.pswpout, "pages written to swap"),
            ("swap_cache_hit", v.swapCacheHits, "swap faults served by the swap cache"),
            ("swap_write_avoided", v.swapWritesAvoided, "evictions of clean swap-cache pages (no write)"),
            ("pgpgin", v.pgpgin, "page-cache pages read from disk"),
            ("pgpgout", v.pgpgout, "pages written to disk or swap"),
            ("file_read", v.fileReads, "file pages read on page-cache misses"),
            ("readahead", v.readahead, "file pages brought in by read-ahead with the miss before them"),
            ("writeback", v.writebacks, "dirty page-cache pages written back"),
            ("pgscan_kswapd", v.pgscan_kswapd, "pages isolated for reclaim by kswapd"),
            ("pgscan_direct", v.pgscan_direct, "pages isolated for reclaim by direct reclaim"),
            ("pgsteal_kswapd", v.pgsteal_kswapd, "pages reclaimed by kswapd"),
            ("pgsteal_direct", v.pgsteal_direct, "pages reclaimed by direct reclaim"),
            ("pgactivate", v.pgactivate, "pages promoted to an active list"),
            ("pgdeactivate", v.pgdeactivate, "pages moved to an inactive list"),
            ("pgrotated", v.pgrotated, "referenced pages given a second round"),
            ("kswapd_wakeups", v.kswapd_wakeups, "kswapd runs that had work"),
            ("allocstall", v.allocstall, "allocations that entered direct reclaim"),
            ("workingset_refault", v.workingset_refault, "faults on pages evicted earlier (refaults)"),
            ("workingset_activate", v.workingset_activate, "refaulted pages activated at once (short refault distance)"),
            ("oom_kill", v.oom_kill, "processes killed by the OOM killer"),
            ("refused_allocations", v.refusedAllocations, "allocations refused by the overcommit policy"),
            ("segfaults", v.segfaults, "accesses outside any region or against its protection"),
        ]
    }

    public static func timeseriesCSV(_ r: SimulationResult) -> String {
        var s = GuestSample.csvHeader.joined(separator: ",") + "\n"
        for x in r.samples { s += x.csvFields.map(csvQuote).joined(separator: ",") + "\n" }
        return s
    }

    /// The host at each sample: free, consumed (backing guest pages) and overhead memory, the
    /// free-memory state and what each technique holds.
    public static func hostTimeseriesCSV(_ r: SimulationResult) -> String {
        let names = hostFields(HostSnapshot()).map(\.name)
        var s = "time_s,free_kb,consumed_kb,overhead_kb,state," + names.joined(separator: ",") + "\n"
        for h in r.hostSamples {
            s += "\(formatFixed(Double(h.timeNs) / 1e9, 3)),\(h.freePages * 4),\(h.consumedPages * 4),\(h.overheadPages * 4),\(h.host.state.rawValue),"
            s += hostFields(h.host).map { "\($0.value)" }.joined(separator: ",") + "\n"
        }
        return s
    }

    /// Host-wide counters (name, value, unit, description); KSM names for sharing.
    static func hostFields(_ h: HostSnapshot) -> [(name: String, value: Int, unit: String, summary: String)] {
        [
            ("min_free_kb", h.minFree * 4, "kB", "ESXi minFree (sliding scale of host memory)"),
            ("private_kb", h.privateFrames * 4, "kB", "machine memory backing guest pages privately"),
            ("shared_frames_kb", h.sharedFrames * 4, "kB", "machine memory holding shared pages"),
            ("pages_shared", h.pagesShared, "pages", "KSM pages_shared: shared frames in use"),
            ("pages_sharing", h.pagesSharing, "pages", "KSM pages_sharing: extra mappings of shared frames (frames saved)"),
            ("pages_unshared", h.pagesUnshared, "pages", "KSM pages_unshared: candidates in the unstable table"),
            ("pages_volatile", h.pagesVolatile, "pages", "KSM pages_volatile: pages that changed between scans (last full scan)"),
            ("zero_pages_sharing", h.zeroPagesSharing, "pages", "pages mapped to the host zero frame (KSM use_zero_pages)"),
            ("full_scans", h.fullScans, "count", "KSM full_scans: complete passes over all VMs"),
            ("pages_scanned", h.pagesScanned, "pages", "pages hashed by the sharing scanner"),
            ("false_matches", h.falseMatches, "count", "hash matches whose 4096 bytes differed (never shared)"),
            ("stale_candidates", h.staleCandidates, "count", "unstable candidates that changed after being hashed"),
            ("large_subpages_hashed", h.largeSubpagesHashed, "pages", "subpages of large pages hashed ahead of a break"),
            ("cow_breaks", h.cowBreaks, "count", "copy-on-write breaks of shared pages"),
            ("ballooned_kb", h.ballooned * 4, "kB", "memory held by balloon drivers"),
            ("compressed_kb", h.compressed * 4, "kB", "guest memory held compressed"),
            ("compressed_bytes", h.compressedBytes, "bytes", "compressed bytes in the caches"),
            ("cache_kb", h.cacheFrames * 4, "kB", "machine memory of the compression caches"),
            ("host_swapped_kb", h.hostSwapped * 4, "kB", "guest memory in host swap files"),
            ("large_pages", h.largePages, "count", "intact 2 MiB large pages"),
            ("large_pages_broken", h.largePagesBroken, "count", "large pages broken into 4 KiB pages"),
            ("shared_before_swap", h.sharedBeforeSwap, "pages", "subpages shared the moment their large page broke"),
            ("blocked_allocations", h.blockedAllocations, "count", "allocations that waited for synchronous reclamation"),
            ("double_paging", h.doublePaging, "count", "guest swap-outs of pages the host had already swapped or compressed"),
            ("host_swap_ins", h.hostSwapIns, "count", "host-level major faults (swap file reads)"),
            ("host_swap_outs", h.hostSwapOuts, "count", "pages written to host swap files"),
            ("compressions", h.compressions, "count", "pages stored in compression caches"),
            ("compression_rejects", h.compressionRejects, "count", "pages that did not compress below the threshold"),
            ("decompressions", h.decompressions, "count", "pages decompressed on access"),
            ("scan_cpu_us", Int(h.scanCPUNs / 1000), "us", "sharing scanner CPU time (cost model)"),
            ("compress_cpu_us", Int(h.compressorCPUNs / 1000), "us", "compression and decompression CPU time (cost model)"),
        ] + HostMemoryState.allCases.map { s in
            ("time_in_\(s.rawValue)_ms", Int(h.timeInStateNs[s.level] / 1_000_000), "ms", "simulated time in the \(s.rawValue) state")
        }
    }

    /// One VM's host-side figures.
    static func vmHostFields(_ h: VMHostSnapshot) -> [(name: String, value: Int, unit: String, summary: String)] {
        [
            ("consumed_kb", h.consumed * 4, "kB", "machine memory consumed: private frames and compression cache"),
            ("private_kb", h.privateFrames * 4, "kB", "machine memory backing the guest privately"),
            ("shared_kb", h.shared * 4, "kB", "guest memory mapped to shared frames"),
            ("zero_shared_kb", h.zeroShared * 4, "kB", "guest memory mapped to the host zero frame"),
            ("ballooned_kb", h.ballooned * 4, "kB", "memory held by the balloon driver"),
            ("balloon_target_kb", h.balloonTarget * 4, "kB", "the balloon policy's target"),
            ("compressed_kb", h.compressed * 4, "kB", "guest memory held compressed"),
            ("compressed_bytes", h.compressedBytes, "bytes", "compressed bytes in the cache"),
            ("cache_kb", h.cacheFrames * 4, "kB", "machine memory of the compression cache"),
            ("host_swapped_kb", h.hostSwapped * 4, "kB", "guest memory in the host swap file"),
            ("large_pages", h.largePages, "count", "intact 2 MiB large pages"),
            ("large_page_untouched_kb", h.largePageUntouched * 4, "kB", "large-page memory the guest never touched (waste)"),
            ("active_estimated_kb", h.activeEstimated * 4, "kB", "active memory estimated by sampling"),
            ("active_true_kb", h.activeTrue * 4, "kB", "pages truly touched in the last sampling period"),
            ("ept_faults", h.stats.eptFaults, "count", "second-level (EPT) faults"),
            ("host_fault_time_us", Int(h.stats.hostTimeNs / 1000), "us", "simulated time of host faults"),
            ("cow_breaks", h.stats.cowBreaks, "count", "copy-on-write breaks of shared pages"),
            ("merges", h.stats.merges, "count", "pages merged into shared frames"),
            ("compressions", h.stats.compressions, "count", "pages compressed into the cache"),
            ("compression_rejects", h.stats.compressionRejects, "count", "pages that did not compress below the threshold"),
            ("decompressions", h.stats.decompressions, "count", "pages decompressed on access"),
            ("cache_evictions", h.stats.cacheEvictions, "count", "compressed pages moved to swap when the cache was full"),
            ("host_swap_outs", h.stats.swapOuts, "count", "pages written to the host swap file"),
            ("host_swap_ins", h.stats.swapIns, "count", "host-level major faults"),
            ("double_paging", h.stats.doublePaging, "count", "guest swap-outs of pages the host had swapped or compressed"),
            ("large_pages_backed", h.stats.largePagesBacked, "count", "2 MiB pages that backed a region"),
            ("large_pages_broken", h.stats.largePagesBroken, "count", "large pages broken into 4 KiB pages"),
            ("balloon_reclaimed", h.stats.balloonReclaimed, "pages", "backed pages freed through the balloon"),
            ("blocked_us", Int(h.stats.blockedNs / 1000), "us", "time waiting for synchronous host reclamation"),
        ]
    }

    static func csvQuote(_ f: String) -> String {
        f.contains(",") || f.contains("\"") ? "\"" + f.replacingAll("\"", "\"\"") + "\"" : f
    }

    public static func eventsJSONL(_ r: SimulationResult) -> String {
        var s = ""
        for e in r.events {
            var o: [(String, JSONValue)] = [("time_s", .double(Double(e.timeNs) / 1e9)), ("kind", .string(e.kind))]
            o.append(("guest", e.guest.map { .string($0) } ?? .null))
            for (k, v) in e.fields { o.append((k, .string(v))) }
            s += JSONValue.object(o).rendered() + "\n"
        }
        return s
    }

    /// Every statistic of the run, gem5-style.
    public static func statistics(_ r: SimulationResult) -> StatisticsBlock {
        var b = StatisticsBlock()
        b.add("sim.seconds", Double(r.simulatedNs) / 1e9, unit: "s", "simulated time")
        b.add("sim.ended_early", r.endedEarly == nil ? 0 : 1, unit: "bool", "1 if the run stopped before its duration")
        b.add("host.ram", r.hostTotalPages * 4, unit: "kB", "host machine memory")
        b.add("host.free", r.hostFreePages * 4, unit: "kB", "host memory backing nothing at the end")
        b.add("host.consumed", r.hostConsumedPages * 4, unit: "kB", "host memory backing guest pages")
        b.add("host.overhead", r.hostOverheadPages * 4, unit: "kB", "per-VM overhead memory")
        b.add("host.hypervisor", r.hostHypervisorPages * 4, unit: "kB", "memory the hypervisor keeps")
        b.add("host.out_of_memory", r.hostOutOfMemory ? 1 : 0, unit: "bool", "1 if a guest touched a page with no machine frame left")
        b.add("host.state", r.host.state.level, unit: "level", "free-memory state at the end: 0 high, 1 clear, 2 soft, 3 hard, 4 low")
        for f in hostFields(r.host) { b.add("host." + f.name, f.value, unit: f.unit, f.summary) }
        for (k, n) in eventCounts(r) { b.add("events.\(k)", n, unit: "count", "events of kind \(k)") }
        for g in r.guests {
            let p = "guest.\(g.name)."
            b.add(p + "configured", g.configuredPages * 4, unit: "kB", "configured guest memory")
            b.add(p + "host_consumed", g.hostConsumedPages * 4, unit: "kB", "machine memory backing the guest at the end")
            b.add(p + "host_consumed_peak", g.peakHostConsumedPages * 4, unit: "kB", "peak machine memory backing the guest")
            b.add(p + "eat", g.eatNs, unit: "ns", "effective access time (1-p)*ma + p*fault_time over the run")
            b.add(p + "slowdown", g.slowdown, unit: "ratio", "EAT against a run with no faults (EAT / memory_access)")
            for f in vmHostFields(g.host) { b.add(p + "host." + f.name, f.value, unit: f.unit, f.summary) }
            for (name, kb) in g.meminfo.fields { b.add(p + "meminfo." + name, kb, unit: "kB", "/proc/meminfo \(name) at the end") }
            for f in vmstatFields(g.vmstat) { b.add(p + "vmstat." + f.name, f.value, unit: "count", f.summary) }
            for (o, n) in g.buddyinfo.enumerated() { b.add(p + "buddyinfo.order\(o)", n, unit: "blocks", "free blocks of order \(o) (/proc/buddyinfo)") }
            for (i, w) in g.workloads.enumerated() {
                for e in w.stats.entries { b.add(Statistic(p + "workload\(i).\(w.kind).\(e.name)", e.value, unit: e.unit, e.summary)) }
            }
        }
        return b
    }

    public static func statsText(_ r: SimulationResult) -> String {
        let b = statistics(r)
        let w = b.entries.map(\.name.count).max() ?? 10
        var s = "---------- Begin Simulation Statistics ----------\n"
        for e in b.entries {
            let v = e.formattedValue
            s += e.name.padding(w) + "  " + v.leftPadding(16) + "  " + e.unit.padding(6) + "  # " + e.summary + "\n"
        }
        s += "---------- End Simulation Statistics   ----------\n"
        return s
    }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    func leftPadding(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
    func replacingAll(_ a: String, _ b: String) -> String { split(separator: a, omittingEmptySubsequences: false).joined(separator: b) }
}
