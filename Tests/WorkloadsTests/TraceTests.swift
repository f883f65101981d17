import GuestKernel
import OvercommitSupport
import Testing
@testable import Workloads

@Suite struct TraceTests {
    static let text = """
        # a parent maps and touches pages, forks; the child writes an inherited page
        M 1 0x400000 16
        W 1 0x400000
        R 1 0x401008   # same 2 MiB range, next page
        W 1 0x7ff000a98
        F 1 2
        W 2 0x400010
        R 2 0x1000
        X 2
        R 1 0X401000
        """

    static let lackey = """
        ==4242== Lackey, an example Valgrind tool
        ==4242== Copyright (C) 2002-2017, and GNU GPL'd, by Nicholas Nethercote.
        ==4242== Command: ./a.out
        ==4242==
        I  04015d0c,3
         L 04222cac,4
         S 7ff000a98,8
         M 0421f8f4,8
         L 04222ffe,4
        I  04015d0f,5
        ==4242== Counted 1 call to main()
        """

    @Test func textFormatParses() throws {
        let t = try CompiledTrace(parsing: TraceTests.text)
        #expect(t.format == .text)
        #expect(t.processCount == 2)
        #expect(
            t.references().map(\.description) == [
                "W 1 0x400000", "R 1 0x401000", "W 1 0x7ff000000", "W 2 0x400000", "R 2 0x1000", "R 1 0x401000",
            ])
        #expect(t.referenceCount == 6)
    }

    @Test func lackeyFormatParses() throws {
        let t = try CompiledTrace(parsing: TraceTests.lackey)
        #expect(t.format == .lackey)
        #expect(t.processCount == 1)
        // I and L read, S writes, M reads then writes; an access crossing a page touches both.
        #expect(
            t.references().map(\.description) == [
                "R 1 0x4015000", "R 1 0x4222000", "W 1 0x7ff000000", "R 1 0x421f000", "W 1 0x421f000",
                "R 1 0x4222000", "R 1 0x4223000", "R 1 0x4015000",
            ])
        #expect(try CompiledTrace(parsing: TraceTests.lackey, format: .lackey).referenceCount == 8)
    }

    @Test func badLinesNameTheLineAndWhatWasExpected() {
        func error(_ text: String, _ format: TraceFormat = .text) -> TraceParseError? {
            do { _ = try CompiledTrace(parsing: text, format: format, path: "t.trace"); return nil } catch let e as TraceParseError { return e } catch {
                return nil
            }
        }
        let cases: [(String, TraceFormat, Int, String)] = [
            ("R 1 0x1000\nQ 1 0x2000\n", .text, 2, "unknown record 'Q'; expected R, W, M, F, X or A"),
            ("R 1 0x1000\n\nW x 0x10\n", .text, 3, "expected a process id (decimal) after 'W'; got 'x'"),
            ("R 1\n", .text, 1, "expected a hexadecimal address after the process id; the line ends here"),
            ("R 1 0xzz\n", .text, 1, "expected a hexadecimal address after the process id; got '0xzz'"),
            ("R 1 0x10 extra\n", .text, 1, "unexpected 'extra'"),
            ("M 1 0x10\n", .text, 1, "expected a page count"),
            ("R 1 0x10\nX 3\n", .text, 2, "X: pid 3 is not running"),
            ("R 1 0x10\nR 2 0x10\nF 1 2\n", .text, 3, "F: child pid 2 is already running"),
            ("RW 1 0x10\n", .text, 1, "unknown record 'RW'"),
            ("# only a comment\n", .text, 0, "the trace has no memory references"),
            ("I  0400,3\n L 0400\n", .lackey, 2, "expected ',<size>' after the address"),
            ("I  0400,3\nX 0400,3\n", .lackey, 2, "expected a lackey record"),
            (" Q 0400,3\n", .lackey, 1, "unknown access kind 'Q'"),
            (" L 0400,abc\n", .lackey, 1, "expected a size in bytes (decimal) after the comma; got 'abc'"),
            ("W 1 0x1000\nA 1 0x1000 4 discard\n", .text, 2, "A: unknown advice 'discard'; expected one of normal, random, sequential"),
            ("W 1 0x1000\nA 1 0x1000 4\n", .text, 2, "expected an advice after the page count"),
            ("W 1 0x1000\nA 1 0x1000 0 free\n", .text, 2, "expected a page count of at least 1"),
            ("W 1 0x1000\nA 1 0x1000 4 free x\n", .text, 2, "unexpected 'x'"),
        ]
        for (text, format, line, message) in cases {
            let e = error(text, format)
            #expect(e?.line == line, "\(text)")
            #expect(e?.message.contains(message) == true, "\(e?.message ?? "no error") should contain \(message)")
            #expect(e?.description.hasPrefix("t.trace:\(line): ") == true)
        }
    }

    @Test func autoDetection() throws {
        #expect(try CompiledTrace(parsing: "\n# c\nW 1 0x10\n").format == .text)
        #expect(try CompiledTrace(parsing: "I  0400,3\n").format == .lackey)
        #expect(try CompiledTrace(parsing: " S 0400,3\n").format == .lackey)
        #expect(try CompiledTrace(parsing: "R 1 10\r\nW 1 20\r\n").referenceCount == 2)
    }

    @Test func replayIssuesTheExactReferenceSequence() throws {
        let k = makeKernel()
        let trace = try CompiledTrace(parsing: TraceTests.text)
        let w = TraceWorkload(TraceWorkloadParameters(file: "t"), trace: trace)
        w.recordIssued = true
        var c = makeContext()
        drive(w, on: k, seconds: 1, context: &c)
        #expect(w.isFinished)
        let issued = w.issued
        #expect(issued.count == 6)
        let p1 = issued[0].pid, p2 = issued[3].pid
        #expect(p1 != p2)
        #expect(issued.map(\.pid) == [p1, p1, p1, p2, p2, p1])
        #expect(issued.map(\.write) == [true, false, true, true, false, false])
        // Same 2 MiB range → same mapping: pages keep their offsets; the child sees the
        // parent's mapping at the same address (fork).
        let base = issued[0].vpn
        #expect(issued[1].vpn == base + 1)
        #expect(issued[3].vpn == base)
        #expect(issued[5].vpn == base + 1)
        #expect(issued[2].vpn != base && issued[4].vpn != base)
        // The child's write to the inherited page copied it.
        #expect(c.stats.cowCopies == 1)
        #expect(c.stats.forks == 1 && c.stats.spawns == 1)
        #expect(c.stats.operations == 1)
        #expect(k.livePIDs.isEmpty)
    }

    @Test func adviceRecordsCallMadviseOnTheMappedParts() throws {
        func replay(_ text: String) throws -> (GuestKernel, TraceWorkload) {
            let k = makeKernel()
            let w = TraceWorkload(TraceWorkloadParameters(file: "t"), trace: try CompiledTrace(parsing: text))
            var c = makeContext()
            drive(w, on: k, seconds: 1, context: &c)
            #expect(w.isFinished)
            return (k, w)
        }
        let writes = (0..<8).map { "W 1 0x\(String(0x400000 + $0 * 4096, radix: 16))" }.joined(separator: "\n")
        let reads = (0..<8).map { "R 1 0x\(String(0x400000 + $0 * 4096, radix: 16))" }.joined(separator: "\n")
        // Without advice the reads hit the written pages; after MADV_DONTNEED they map the zero page.
        let (plain, _) = try replay(writes + "\n" + reads)
        #expect(plain.vmstat.zeroPageMaps == 0 && plain.vmstat.madvise_calls == 0)
        // The range also covers an address nobody mapped (skipped: one call only).
        let (zapped, _) = try replay(writes + "\nA 1 0x400000 8 MADV_DONTNEED\nA 1 0x40000000 4 dontneed\n" + reads)
        #expect(zapped.vmstat.madvise_calls == 1)
        #expect(zapped.vmstat.zeroPageMaps == 8)
        let (lazy, _) = try replay(writes + "\nA 1 0x400000 8 free\n" + reads)
        #expect(lazy.vmstat.pglazyfree == 8)
        #expect(lazy.vmstat.zeroPageMaps == 0)
        // One record over two mappings: one madvise call per mapping.
        let trace = try CompiledTrace(parsing: "M 1 0x400000 16\nW 1 0x400000\nW 1 0x800000\nA 1 0x400000 2048 dontneed\n")
        #expect(trace.advices.map(\.pages) == [512, 512])
    }

    @Test func replayLoopsWithFreshProcesses() throws {
        let k = makeKernel()
        var p = TraceWorkloadParameters(file: "t.lackey")
        p.loop = true
        let w = try make(.trace(p), k, resources: ["t.lackey": TraceTests.lackey]) as! TraceWorkload
        var c = makeContext()
        drive(w, on: k, seconds: 0.002, context: &c, tick: 1_000_000)
        #expect(!w.isFinished)
        #expect(w.passes > 10)
        // Each pass runs the program again: one spawn per pass (plus the running one).
        #expect(c.stats.spawns == w.passes + (w.position > 0 ? 1 : 0))
        #expect(c.stats.operations == w.passes)
        #expect(c.stats.references >= w.passes * 8 && c.stats.references <= (w.passes + 1) * 8)
    }

    @Test func oracleReportsNextUseInTheCurrentPass() throws {
        let k = makeKernel(policy: .opt)
        let text = "W 1 0x1000\nW 1 0x2000\nR 1 0x1000\nR 1 0x3000\nR 1 0x2000\n"
        let w = try make(.trace(TraceWorkloadParameters(file: "t")), k, resources: ["t": text]) as! TraceWorkload
        w.recordIssued = true
        var c = makeContext()
        // One op per slice: a 1 ns budget lets exactly one op run.
        func step() { c.budget = 1; w.run(on: k, context: &c) }
        step()  // spawn
        step()  // W 0x1000 (op 1)
        let pid = w.issued[0].pid
        let a = w.issued[0].vpn
        #expect(w.nextUse(pid: pid, vpn: a) == 3)
        step()  // W 0x2000 (op 2)
        let b = w.issued[1].vpn
        #expect(b == a + 1)
        #expect(w.nextUse(pid: pid, vpn: b) == 5)
        step()  // R 0x1000 (op 3)
        #expect(w.nextUse(pid: pid, vpn: a) == Int.max)
        #expect(w.nextUse(pid: pid, vpn: a + 2) == 4)  // 0x3000: first use ahead
        #expect(w.nextUse(pid: pid, vpn: a + 600) == Int.max)
        #expect(w.nextUse(pid: pid + 100, vpn: a) == Int.max)
    }

    @Test func makeReportsMissingAndBadTraces() throws {
        let k = makeKernel()
        #expect(throws: WorkloadError.missingResource(path: "nope")) {
            try make(.trace(TraceWorkloadParameters(file: "nope")), k)
        }
        #expect(throws: TraceParseError(line: 2, message: "unknown record 'Z'; expected R, W, M, F, X or A (or # for a comment)", path: "bad")) {
            try make(.trace(TraceWorkloadParameters(file: "bad")), k, resources: ["bad": "R 1 0x0\nZ\n"])
        }
    }

    @Test func resourcesParseEachTraceOnce() throws {
        let r = WorkloadResources(["t": TraceTests.text])
        let a = try r.trace(path: "t", format: .auto)
        let b = try r.trace(path: "t", format: .auto)
        #expect(a === b)
    }
}

@Suite struct TraceOracleTests {
    /// A cyclic sweep larger than memory: LRU's worst case, where OPT keeps most of the loop.
    @Test func optBeatsLRUOnACyclicTrace() throws {
        var lines = ["# write 64 MiB once, then read it cyclically twice (the guest manages about 47 MiB)"]
        let pages = 16_384
        for i in 0..<pages { lines.append("W 1 0x\(String(0x1000_0000 + i * 4096, radix: 16))") }
        for _ in 0..<2 { for i in 0..<pages { lines.append("R 1 0x\(String(0x1000_0000 + i * 4096, radix: 16))") } }
        let text = lines.joined(separator: "\n")
        func majors(_ policy: ReplacementPolicyKind) throws -> (Int, Bool) {
            let k = makeKernel(memory: .mib(64), swap: .mib(256), policy: policy)
            let w = try make(.trace(TraceWorkloadParameters(file: "sweep")), k, resources: ["sweep": text])
            var c = makeContext()
            drive(w, on: k, seconds: 120, context: &c)
            return (c.stats.majorFaults, w.isFinished)
        }
        let (opt, optDone) = try majors(.opt)
        let (lru, lruDone) = try majors(.lru)
        #expect(optDone && lruDone)
        #expect(lru > pages)
        #expect(Double(opt) < Double(lru) * 0.8, "opt \(opt) lru \(lru)")
    }
}
