import GuestKernel
import OvercommitSupport
import Workloads

extension DemoScripts {
    /// The reference string of Belady, Nelson and Shedler (1969), as the demo's trace holds it.
    static let beladyString = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]

    /// The trace of the reference string (the demo's guest replays the same pages).
    static var beladyTrace: CompiledTrace {
        let text = beladyString.map { "W 1 0x\(String(0x1000_0000 + $0 * 0x1000, radix: 16))" }.joined(separator: "\n")
        return try! CompiledTrace(parsing: text)
    }

    /// Faults of `policy` with `frames` frames on the reference string, from the paging engine.
    static func beladyFaults(_ policy: ReplacementPolicyKind, _ frames: Int) -> Int {
        TracePaging.run(beladyTrace, frames: frames, policy: policy).faults
    }

    /// The textbook table of a run: the reference string, each frame's page after every
    /// reference, and F under each fault (one character per reference, single spaces).
    static func beladyTable(_ policy: ReplacementPolicyKind, frames: Int) -> String {
        let t = beladyTrace
        let pager = FixedFramePager(frames: frames, pages: t.pageCount, policy: policy)
        var label: [Int: Int] = [:]
        var rows = [[String]](repeating: [], count: frames)
        var faults: [String] = []
        var i = 0
        t.forEachReference { page, write, next in
            label[page] = beladyString[i]
            i += 1
            faults.append(pager.reference(page, write: write, nextUse: next) ? "F" : ".")
            for (f, p) in pager.framePages.enumerated() { rows[f].append(p.map { "\(label[$0]!)" } ?? "-") }
        }
        var lines = ["refs: " + beladyString.map(String.init).joined(separator: " ")]
        for (f, r) in rows.enumerated() { lines.append("fr.\(f + 1): " + r.joined(separator: " ")) }
        lines.append("flt.: " + faults.joined(separator: " ") + "   \(pager.faults) faults")
        return lines.joined(separator: "\n")
    }

    /// Belady's anomaly: with FIFO, four frames fault more than three on the classic string.
    static let beladysAnomaly = DemoScript(
        title: "Belady's anomaly",
        summary: "FIFO faults more with 4 frames than 3; LRU and OPT never do",
        introduction: """
            The reference string 1 2 3 4 1 2 5 1 2 3 4 5 (Belady, Nelson and Shedler, 1969) is replayed by a process \
            in a 128 MiB guest (Configs/demos/traces/beladys-anomaly.trace), then paged with exactly 3 and 4 frames by \
            the textbook engine that `overcommit paging` runs: a reference to a page not in a frame is a fault; once \
            the frames are full the policy picks its victim before the new page comes in. Intuition says more \
            frames mean fewer faults. For FIFO it is wrong.
            """,
        sources: [
            "L. A. Belady, R. A. Nelson, G. S. Shedler, \"An Anomaly in Space-Time Characteristics of Certain Programs Running in a Paging Machine\", Communications of the ACM 12(6), 1969.",
            "L. A. Belady, \"A Study of Replacement Algorithms for a Virtual-Storage Computer\", IBM Systems Journal 5(2), 1966 (OPT/MIN).",
            "R. L. Mattson, J. Gecsei, D. R. Slutz, I. L. Traiger, \"Evaluation Techniques for Storage Hierarchies\", IBM Systems Journal 9(2), 1970 (stack algorithms: why LRU and OPT have no anomaly).",
        ],
        counters: [\.vmstat.pgfault, \.vmstat.zeroFills, \.liveProcesses],
        showHost: false,
        steps: [
            DemoStep(
                "the string in a real guest", stop: .finished(guest: "vm"),
                narrate: { v in
                    let w = v.guest("vm").workloads.last!
                    return """
                        The guest booted (its boot's faults are in the counters below), then the trace's process wrote the \
                        \(w.references) references to its 5 pages: \(w.faults) page faults, \(w.zeroFills) of them zero-filled \
                        frames, one per page at its first touch; \(w.references - w.faults) references hit. The guest has \
                        thousands of free frames, so nothing is evicted. A page-replacement policy matters only when frames \
                        are scarce: the next steps give the same string exactly 3 and then 4 frames.
                        """
                },
                expect: { v in
                    let w = v.guest("vm").workloads.last!
                    return [
                        DemoExpectation("the process makes 12 references", w.references == 12),
                        DemoExpectation("it faults once per page (5 zero-fills) and never again", w.zeroFills == 5 && w.faults == 5),
                    ]
                }),
            DemoStep(
                "FIFO with 3 frames", stop: .at(.ms(2000)),
                narrate: { _ in
                    """
                    FIFO evicts the page that arrived first. With 3 frames (F = fault, . = hit):

                    \(beladyTable(.fifo, frames: 3))

                    \(beladyFaults(.fifo, 3)) faults: the first three fill the frames, then every new page pushes out \
                    the oldest; 1 and 2 are still there when they come back after 5.
                    """
                },
                expect: { _ in
                    [
                        DemoExpectation("FIFO with 3 frames faults 9 times", beladyFaults(.fifo, 3) == 9)
                    ]
                }),
            DemoStep(
                "FIFO with 4 frames", stop: .at(.ms(2000)),
                narrate: { _ in
                    """
                    The same string with one frame more:

                    \(beladyTable(.fifo, frames: 4))

                    \(beladyFaults(.fifo, 4)) faults, one more than with 3 frames. With 4 frames, 5 arrives when 1 is \
                    the oldest page, so 1, then 2, then 3 ... are each evicted just before they are needed: the \
                    larger memory holds a different set of pages, not a superset of the smaller one's. That is \
                    Belady's anomaly.
                    """
                },
                expect: { _ in
                    [
                        DemoExpectation("FIFO with 4 frames faults 10 times", beladyFaults(.fifo, 4) == 10),
                        DemoExpectation("more frames, more faults", beladyFaults(.fifo, 4) > beladyFaults(.fifo, 3)),
                    ]
                }),
            DemoStep(
                "stack algorithms", stop: .at(.ms(3000)),
                narrate: { _ in
                    let lru3 = beladyFaults(.lru, 3), lru4 = beladyFaults(.lru, 4)
                    let opt3 = beladyFaults(.opt, 3), opt4 = beladyFaults(.opt, 4)
                    let clk3 = beladyFaults(.clock, 3), clk4 = beladyFaults(.clock, 4)
                    return """
                        LRU and OPT are stack algorithms (Mattson et al., 1970): the pages N frames hold are always a subset \
                        of what N + 1 frames hold, so more frames can never fault more. LRU: \(lru3) faults with 3 frames, \
                        \(lru4) with 4. OPT (Belady's MIN, evict the page used furthest in the future): \(opt3) and \
                        \(opt4). CLOCK is not a stack algorithm: here every page is referenced again before the hand comes \
                        round, so it behaves as FIFO: \(clk3) and \(clk4).
                        """
                },
                expect: { _ in
                    [
                        DemoExpectation("LRU: 10 faults with 3 frames, 8 with 4", beladyFaults(.lru, 3) == 10 && beladyFaults(.lru, 4) == 8),
                        DemoExpectation("OPT: 7 faults with 3 frames, 6 with 4", beladyFaults(.opt, 3) == 7 && beladyFaults(.opt, 4) == 6),
                        DemoExpectation(
                            "OPT is optimal: no policy faults less",
                            [ReplacementPolicyKind.lru, .fifo, .clock].allSatisfy { beladyFaults($0, 3) >= 7 && beladyFaults($0, 4) >= 6 }),
                    ]
                }),
        ])
}
