@testable import GuestKernel
import OvercommitSupport
import PageContents
import Testing
@testable import Workloads

/// Where a guest's duplicate anonymous pages come from: program data written identically by
/// every process of a program, and file pages copied into user memory by read(2).
@Suite struct ProgramDataTests {
    /// The contents of (pid, vpn), or nil when the page is not present.
    func content(_ k: GuestKernel, _ pid: PID, _ vpn: VPN) -> PageContent? {
        guard let p = k.process(pid) else { return nil }
        let e = PTE(raw: k.pteValue(p, vpn))
        return e.isPresent ? k.content(of: e.pfn) : nil
    }

    @Test func programPagesAreAFixedShareAndPointerPagesFollowTheLayout() {
        let mix: [(ContentStyle, Double)] = [(.pointers, 0.5), (.text, 0.5)]
        let d = ProgramData(program: 77, fraction: 0.25, mix: mix)
        let pages = d.programPages(region: 1, pages: 20_000)
        #expect(abs(Double(pages.count) / 20_000 - 0.25) < 0.02)
        // Exactly the listed pages have program contents, the same every time they are asked for.
        let listed = Set(pages)
        for page in 0..<2000 {
            let c = d.content(region: 1, page: page, layout: 5)
            #expect((c != nil) == listed.contains(page))
            #expect(c == d.content(region: 1, page: page, layout: 5))
        }
        // Text pages are the same under any layout; pointer pages only under the same one.
        var text = 0, pointers = 0
        for page in pages.prefix(400) {
            let a = d.content(region: 1, page: page, layout: 5)!, b = d.content(region: 1, page: page, layout: 6)!
            if a.style == .text { text += 1; #expect(a == b) } else { pointers += 1; #expect(a.style == .pointers && a != b) }
        }
        #expect(text > 100 && pointers > 100)
        // Another program, or another region, is other data.
        let other = ProgramData(program: 78, fraction: 0.25, mix: mix)
        #expect(Set(other.programPages(region: 1, pages: 20_000)) != listed)
        #expect(Set(d.programPages(region: 2, pages: 20_000)) != listed)
        #expect(ProgramData(program: 77, fraction: 0, mix: mix).programPages(region: 1, pages: 1000).isEmpty)
    }

    @Test func forkedWebWorkersSetUpIdenticalPages() throws {
        let k = makeKernel()
        var p = WebWorkloadParameters()
        p.worker_memory = .mib(4)
        p.write_fraction = Percentage(percent: 0)
        let w = try make(.web(p), k) as! WebWorkload
        var c = makeContext()
        drive(w, on: k, seconds: 1, context: &c)
        #expect(w.aliveWorkers.count == 4 && w.settingUp.isEmpty)
        let setup = w.workerSetupPages
        #expect(abs(Double(setup.count) / Double(ByteCount.mib(4).pages) - ProgramData.defaultFraction.fraction) < 0.05)
        var identical = 0
        for page in setup {
            let contents = w.aliveWorkers.map { content(k, w.workerPid[$0], w.workerBase[$0] + VPN(page)) }
            #expect(contents.allSatisfy { $0 != nil && $0 == contents[0] })
            if contents[0] != .zero { identical += 1 }
        }
        #expect(identical > setup.count / 2)
        // The other worker pages were never written (reads only): the zero page.
        let instance = (0..<ByteCount.mib(4).pages).first { !setup.contains($0) }!
        #expect(content(k, w.workerPid[w.aliveWorkers[0]], w.workerBase[w.aliveWorkers[0]] + VPN(instance)) ?? .zero == .zero)
    }

    @Test func aDatabasePoolHoldsCopiesOfTheDataFilePages() throws {
        let k = makeKernel(memory: .mib(512))
        var p = DatabaseWorkloadParameters()
        p.buffer_pool = .mib(32)
        p.data_file = "/var/lib/db/data"
        p.write_fraction = Percentage(percent: 0)
        let w = try make(.database(p), k) as! DatabaseWorkload
        var c = makeContext()
        drive(w, on: k, seconds: 2, context: &c)
        let f = k.fileID(path: "/var/lib/db/data")!
        var copies = 0
        for index in 0..<ByteCount.mib(32).pages {
            guard let pool = content(k, w.process, w.bufferPoolStart + VPN(index)), pool != .zero else { continue }
            // Read with read(2) and never written: the pool page is the file page, byte for byte.
            #expect(pool == k.files[Int(f)].diskContent(index % k.filePages(f)))
            if let cached = k.files[Int(f)].cachedFrame(index % k.filePages(f)) { #expect(k.content(of: cached) == pool); copies += 1 }
        }
        #expect(copies > ByteCount.mib(16).pages)
    }

    @Test func aBatchJobReadsItsInputIntoItsHeapAndOnlyReadsIt() throws {
        let k = makeKernel()
        var p = BatchWorkloadParameters()
        p.peak = .mib(16)
        p.step = .mib(4)
        p.sweeps = 1_000
        p.write_fraction = Percentage(percent: 100)
        p.input_file = "/usr/share/locale"
        p.input_size = .mib(2)
        let w = try make(.batch(p), k) as! BatchWorkload
        var c = makeContext()
        drive(w, on: k, seconds: 1, context: &c)
        let f = k.fileID(path: "/usr/share/locale")!
        let heap = k.heapRange(w.process).lowerBound
        #expect(c.stats.fileReads >= ByteCount.mib(2).pages)
        // Every sweep reference is a write, except to the input, which stays the file's bytes.
        for page in 0..<ByteCount.mib(2).pages {
            #expect(content(k, w.process, heap + VPN(page)) == k.files[Int(f)].diskContent(page))
        }
        #expect(content(k, w.process, heap + VPN(ByteCount.mib(2).pages)) != k.files[Int(f)].diskContent(ByteCount.mib(2).pages))
        // An input file the image lacks is refused when the workload is built.
        p.input_file = "/no/such/file"
        #expect(throws: WorkloadError.self) { _ = try make(.batch(p), k) }
        p.input_file = ""
        #expect(p.validationProblems().contains { $0.key == "input_size" })
    }
}
