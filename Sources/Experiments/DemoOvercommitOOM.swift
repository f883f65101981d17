import OvercommitSupport
import Simulation

extension DemoScripts {
    /// Overcommit modes and the OOM killer: Linux's `__vm_enough_memory` (vm.overcommit_memory
    /// 0/1/2, CommitLimit) and `out_of_memory` / `oom_badness`.
    static let overcommitOOM = DemoScript(
        title: "Overcommit modes and the OOM killer",
        summary: "vm.overcommit_memory 0 vs 2: OOM killer or refused mmap",
        introduction: """
            Two identical 128 MiB guests without swap run three idle daemons and a process that leaks 16 MiB per \
            second in 1 MiB mmaps. They differ in one sysctl. `heuristic` uses vm.overcommit_memory=0, Linux's default: \
            __vm_enough_memory() refuses only a single request larger than RAM plus swap, so each small mmap succeeds \
            and the kernel finds out it has overcommitted when a page fault finds no memory; then the OOM killer \
            (out_of_memory) kills the process with the highest badness. (Mode 1 never refuses anything.) `strict` uses \
            mode 2: every private writable mapping is charged to Committed_AS up front, and an mmap that would push it \
            past CommitLimit = swap + RAM x overcommit_ratio (50%) fails with ENOMEM.
            """,
        sources: [
            "Linux mm/util.c: __vm_enough_memory() (vm.overcommit_memory 0/1/2, CommitLimit); Documentation/mm/overcommit-accounting.rst.",
            "Linux mm/oom_kill.c: out_of_memory(), select_bad_process(), oom_badness(); proc(5): /proc/PID/oom_score and oom_score_adj.",
        ],
        counters: [\.vmstat.refusedAllocations, \.vmstat.oomKill, \.liveProcesses, \.vmstat.pgstealKswapd],
        steps: [
            DemoStep(
                "both guests have booted", stop: .at(.ms(450)),
                narrate: { v in
                    let h = v.guest("heuristic"), s = v.guest("strict")
                    return """
                        Both guests booted identically: MemFree \(h.meminfo.MemFree) kB, Committed_AS \
                        \(h.meminfo.Committed_AS) kB. CommitLimit reads \(s.meminfo.CommitLimit) kB in both (it is shown \
                        in every mode, but only mode 2 enforces it): no swap, plus 50% of the guest's \
                        \(h.meminfo.MemTotal) kB of managed RAM. The leak starts at 0.5 s.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("the guests start equal", v.guest("heuristic").meminfo.Committed_AS == v.guest("strict").meminfo.Committed_AS)
                    ]
                }),
            DemoStep(
                "the leak grows in both", stop: .at(.ms(2000)),
                narrate: { v in
                    let h = v.guest("heuristic"), s = v.guest("strict")
                    return """
                        Each leaked mmap raised Committed_AS as soon as it was made, and its first write allocated the \
                        frames: heuristic and strict show the same Committed_AS (\(h.meminfo.Committed_AS) and \
                        \(s.meminfo.Committed_AS) kB) and AnonPages. So far both policies agree.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("no refusal and no kill yet", v.now.guests.allSatisfy { $0.vmstat.refusedAllocations == 0 && $0.vmstat.oom_kill == 0 })
                    ]
                }),
            DemoStep(
                "strict refuses at CommitLimit", stop: .at(.ms(3500)),
                narrate: { v in
                    let s = v.guest("strict"), h = v.guest("heuristic")
                    let first = v.allEvents.first { $0.kind == "allocation_refused" && $0.guest == "strict" }
                    let when = first.map { formatFixed(Double($0.timeNs) / 1e9, 2) + " s" } ?? "never"
                    func f(_ k: String) -> String { first?.field(k)?.description ?? "?" }
                    return """
                        At \(when) the strict guest refused an mmap of \(f("size_kb")) kB: Committed_AS was \
                        \(f("committed_as_kb")) kB and CommitLimit \(f("commit_limit_kb")) kB, so the \
                        request would not fit. The leaking process gets ENOMEM and retries; every retry is refused too \
                        (\(s.vmstat.refusedAllocations) refusals so far). Committed_AS stays at \(s.meminfo.Committed_AS) kB, \
                        under the limit, and \(s.meminfo.MemFree) kB stay free. The heuristic guest keeps going: \
                        Committed_AS \(h.meminfo.Committed_AS) kB is already past what strict would allow.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("strict refuses allocations", v.guest("strict").vmstat.refusedAllocations > 0),
                        DemoExpectation(
                            "strict keeps Committed_AS within CommitLimit",
                            v.guest("strict").meminfo.Committed_AS <= v.guest("strict").meminfo.CommitLimit),
                        DemoExpectation(
                            "heuristic has committed more than CommitLimit, unrefused",
                            v.guest("heuristic").meminfo.Committed_AS > v.guest("heuristic").meminfo.CommitLimit
                                && v.guest("heuristic").vmstat.refusedAllocations == 0),
                    ]
                }),
            DemoStep(
                "heuristic runs out of memory", stop: .at(.ms(5500)),
                narrate: { v in
                    let h = v.guest("heuristic")
                    return """
                        The heuristic guest's free memory is down at the watermarks (MemFree \(h.meminfo.MemFree) kB). \
                        kswapd reclaimed what it could, and without swap only page cache can go: Cached \
                        \(DemoText.signed(v.delta("heuristic") { $0.meminfo.Cached })) kB in this step, down to \
                        \(h.meminfo.Cached) kB. Anonymous memory has nowhere to go, so each new leaked page takes the \
                        frame of a dropped file page, until there are none left.
                        """
                },
                expect: { v in
                    [
                        DemoExpectation("heuristic dropped page cache under pressure", v.delta("heuristic") { $0.meminfo.Cached } < 0),
                        DemoExpectation("strict still has free memory", v.guest("strict").meminfo.MemFree > v.guest("heuristic").meminfo.MemFree),
                    ]
                }),
            DemoStep(
                "the OOM killer", stop: .at(.ms(7000)),
                narrate: { v in
                    let h = v.guest("heuristic")
                    guard let e = v.allEvents.first(where: { $0.kind == "oom_kill" && $0.guest == "heuristic" }) else {
                        return "No OOM kill happened in the heuristic guest (MemFree \(h.meminfo.MemFree) kB)."
                    }
                    func f(_ k: String) -> String { e.field(k)?.description ?? "?" }
                    return """
                        At \(formatFixed(Double(e.timeNs) / 1e9, 2)) s a page fault in the heuristic guest found no free \
                        frame even after direct reclaim. out_of_memory() scored every process by badness (resident pages + \
                        swap entries + page tables, adjusted by oom_score_adj) and killed \(f("process")) \
                        (pid \(f("pid")), oom_score \(f("oom_score")), \(f("rss_kb")) kB resident), \
                        freeing \(f("freed_kb")) kB: MemFree is back to \(h.meminfo.MemFree) kB and Committed_AS \
                        to \(h.meminfo.Committed_AS) kB. The idle daemons, far smaller, survived. The strict guest never \
                        needed the OOM killer: it said no earlier, to the process that asked.
                        """
                },
                expect: { v in
                    let kill = v.allEvents.first { $0.kind == "oom_kill" && $0.guest == "heuristic" }
                    return [
                        DemoExpectation("the heuristic guest OOM-killed a process", v.guest("heuristic").vmstat.oom_kill >= 1),
                        DemoExpectation("the victim is the leaking process", kill?.field("process") == .text("leaky-app")),
                        DemoExpectation("the strict guest killed nothing", v.guest("strict").vmstat.oom_kill == 0),
                    ]
                }),
        ])
}
