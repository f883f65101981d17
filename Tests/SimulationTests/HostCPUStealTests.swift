import Testing
import Reports
import Workloads
@testable import Simulation

/// The host's background work charged to the guests as steal time (`host.cpu`), and the
/// workloads' throughput counters.
@Suite struct HostCPUStealTests {
    /// Four 1-vCPU guests under memory pressure (sharing, static balloons, compression and
    /// host swap all at work), on a host with `cpus` logical processors.
    static func pressure(cpus: Int, charge: String, duration: String = "3s") -> String {
        """
        name: steal-pressure
        seed: 5
        duration: \(duration)
        sample_interval: 500ms
        host:
          memory: 400MiB
          cpus: \(cpus)
          cpu: {charge_host_work: \(charge)}
          hypervisor_reserved: 32MiB
          vm_overhead: 8MiB
          sharing: {pages_to_scan: 4000, sleep_millisecs: 10, salting: 0}
          balloon_policy: {kind: static}
        images:
          - name: app
            kernel_size: 8MiB
            files:
              - {path: /usr/lib/libapp.so, size: 8MiB, style: code}
        guests:
          - name: vm
            count: 4
            memory: 160MiB
            image: app
            swap: {size: 128MiB, device: ssd}
            kernel: {kernel_reserved: 16MiB}
            balloon: {minimum: 64MiB, static_target: 24MiB}
            workloads:
              - {kind: batch, peak: 130MiB, step: 8MiB, sweeps: 2, access_rate: 40000, repeat: true}
        """
    }

    /// Web servers and a database on a roomy host with an aggressive scanner.
    static func services(cpus: Int, charge: String) -> String {
        """
        name: steal-services
        seed: 3
        duration: 2s
        sample_interval: 500ms
        host:
          memory: 2GiB
          cpus: \(cpus)
          cpu: {charge_host_work: \(charge)}
          hypervisor_reserved: 64MiB
          vm_overhead: 16MiB
          large_pages: false
          sharing: {pages_to_scan: 20000, sleep_millisecs: 10, salting: 0}
        guests:
          - name: web
            count: 2
            memory: 256MiB
            workloads:
              - {kind: web, workers: 2, worker_memory: 8MiB, access_rate: 50000}
          - name: db
            memory: 384MiB
            vcpus: 2
            workloads:
              - {kind: database, buffer_pool: 128MiB, access_rate: 50000}
        """
    }

    static func run(_ yaml: String, threads: Int = 1) throws -> (Simulation, SimulationResult) {
        var o = SimulationOptions()
        o.threads = threads
        let s = try Simulation(config: try load(yaml), options: o)
        return (s, s.run())
    }

    @Test func everyKindOfHostWorkIsCountedAndConserved() throws {
        let (s, r) = try Self.run(Self.pressure(cpus: 4, charge: "steal"))
        let cpu = r.hostCPU
        #expect(cpu.scanNs > 0, "no sharing scanner work counted")
        #expect(cpu.compressNs > 0, "no host-paging compression counted")
        #expect(cpu.swapOutNs > 0, "no host swap-out counted")
        #expect(cpu.balloonNs > 0, "no balloon page handling counted")
        // Four runnable 1-vCPU guests on 4 CPUs: no idle core absorbs anything.
        #expect(cpu.absorbedNs == 0)
        #expect(cpu.totalNs == cpu.absorbedNs + cpu.attributedNs + cpu.pendingNs)
        // What the guests paid is the host's charged steal, and each guest's workloads' slices
        // lost exactly the guest's steal.
        let guestSteal = r.guests.reduce(Int64(0)) { $0 + $1.state.work.stealNs }
        #expect(guestSteal == cpu.chargedNs)
        #expect(cpu.chargedNs > 0)
        for (i, g) in r.guests.enumerated() {
            let lost = s.workloadStats(guest: i).reduce(Int64(0)) { $0 + $1.stealNs }
            #expect(lost == g.state.work.stealNs, "\(g.name): workloads lost \(lost) ns, the guest was charged \(g.state.work.stealNs)")
        }
        // What is attributed and not yet charged is at most one tick of every vCPU.
        let owed = cpu.attributedNs - cpu.chargedNs
        #expect(owed >= 0 && owed <= 4 * 10_000_000)
        // The host counters say the same.
        #expect(HostCounters.handles.stealCharged.value(at: r.hostState) == Double(cpu.chargedNs) / 1e9)
        #expect(HostCounters.handles.hostWorkCPU.value(at: r.hostState) == Double(cpu.totalNs) / 1e9)
    }

    @Test func idleCoresAbsorbTheHostWork() throws {
        // 64 CPUs for 4 vCPUs: the host's work runs on idle cores and steals nothing, so the
        // guests run exactly as with no charge at all.
        let (_, roomy) = try Self.run(Self.pressure(cpus: 64, charge: "steal"))
        let (_, none) = try Self.run(Self.pressure(cpus: 64, charge: "none"))
        #expect(roomy.hostCPU.totalNs > 0)
        #expect(roomy.hostCPU.absorbedNs == roomy.hostCPU.totalNs - roomy.hostCPU.pendingNs)
        #expect(roomy.hostCPU.chargedNs == 0)
        #expect(roomy.guests.map(\.state) == none.guests.map(\.state))
        #expect(roomy.samples == none.samples)
        #expect(roomy.hostSamples == none.hostSamples)
    }

    @Test func chargeNoneStealsNothing() throws {
        let (s, r) = try Self.run(Self.pressure(cpus: 1, charge: "none"))
        #expect(r.hostCPU.totalNs > 0, "the host's work is still counted")
        #expect(r.hostCPU.chargedNs == 0 && r.hostCPU.attributedNs == 0)
        for i in r.guests.indices {
            #expect(s.workloadStats(guest: i).allSatisfy { $0.stealNs == 0 })
            #expect(GuestCounters.handles.steal.value(at: r.guests[i].state) == 0)
        }
    }

    @Test func stolenTimeIssuesFewerReferences() throws {
        let (sa, stolen) = try Self.run(Self.services(cpus: 4, charge: "steal"))
        let (sb, free) = try Self.run(Self.services(cpus: 4, charge: "none"))
        #expect(stolen.hostCPU.chargedNs > 0)
        for i in stolen.guests.indices {
            let name = stolen.guests[i].name
            let a = sa.workloadStats(guest: i), b = sb.workloadStats(guest: i)
            #expect(stolen.guests[i].state.work.stealNs > 0, "\(name) was not charged steal")
            #expect(a[1].references < b[1].references, "\(name): \(a[1].references) references with steal, \(b[1].references) without")
            let ratio = GuestCounters.handles.throughputRatio
            #expect(ratio.value(at: stolen.guests[i].state) < ratio.value(at: free.guests[i].state))
        }
        let req = GuestCounters.handles.throughput.requests
        let lost = stolen.guests.map { req.value(at: $0.state) }.reduce(0, +)
        let all = free.guests.map { req.value(at: $0.state) }.reduce(0, +)
        #expect(lost < all)
        // Steal is spread by vCPUs: the 2-vCPU database pays twice a web server's share
        // (to the nanosecond at each attribution, give or take the remainders).
        let web = Double(stolen.guests[0].state.work.stealNs), db = Double(stolen.guests[2].state.work.stealNs)
        #expect(abs(db / web - 2) < 0.01)
    }

    @Test(arguments: [2, 3])
    func threadsGiveTheSameFilesWithSteal(threads: Int) throws {
        for yaml in [Self.pressure(cpus: 3, charge: "steal", duration: "2s"), Self.services(cpus: 2, charge: "steal")] {
            let (_, one) = try Self.run(yaml, threads: 1)
            let (_, other) = try Self.run(yaml, threads: threads)
            #expect(one.hostCPU.chargedNs > 0)
            for (a, b) in zip(RunReport.files(one), RunReport.files(other)) {
                #expect(a.contents == b.contents, "\(a.name) differs between 1 and \(threads) threads")
            }
        }
    }

    @Test func throughputCountersCountEachKindsUnits() throws {
        let (s, r) = try Self.run(Self.services(cpus: 8, charge: "none"))
        let t = GuestCounters.handles.throughput
        for (i, g) in r.guests.enumerated() {
            let w = s.workloadStats(guest: i)
            let ops = w[1].operations
            #expect(ops > 0)
            if g.name.hasPrefix("web") {
                #expect(t.requests.value(at: g.state) == Double(ops))
                #expect(t.transactions.value(at: g.state) == 0)
                #expect(t.requestsRate.value(at: g.state) == Double(ops) / 2)
            } else {
                #expect(t.transactions.value(at: g.state) == Double(ops))
                #expect(t.requests.value(at: g.state) == 0)
                #expect(t.transactionsRate.value(at: g.state) == Double(ops) / 2)
            }
        }
        // A batch job's sweeps: 2 passes over a 32 MiB heap.
        let batch = """
            name: sweeps
            duration: 2s
            host: {memory: 1GiB}
            guests:
              - name: b
                memory: 256MiB
                workloads:
                  - {kind: batch, peak: 32MiB, step: 8MiB, sweeps: 2, access_rate: 1000000}
            """
        let (sb, rb) = try Self.run(batch)
        #expect(sb.workloadStats(guest: 0)[1].operations == 1, "the job did not finish")
        #expect(t.pagesSwept.value(at: rb.guests[0].state) == Double(2 * 8192))
        #expect(sb.workloadStats(guest: 0)[1].pagesSwept == 2 * 8192)
        // A trace: every reference replayed.
        var o = SimulationOptions()
        o.textResources["t.trace"] = "M 1 0x1000 4\nW 1 0x1000\nR 1 0x2000\nW 1 0x3000\nX 1\n"
        let trace = """
            name: trace
            duration: 1s
            host: {memory: 1GiB}
            guests:
              - name: t
                memory: 128MiB
                workloads:
                  - {kind: trace, file: t.trace, format: text, access_rate: 1000, loop: true}
            """
        let st = try Simulation(config: try load(trace), options: o)
        let rt = st.run()
        let refs = st.workloadStats(guest: 0)[1].references
        #expect(refs > 0)
        #expect(t.references.value(at: rt.guests[0].state) == Double(refs))
    }

    @Test func theUnitsEachKindDeclares() {
        let units = WorkloadRegistry.kinds.compactMap { k in k.throughputUnit.map { (k.kindName, $0) } }
        #expect(units.map(\.0) == ["web", "database", "batch", "trace"])
        #expect(units.map(\.1) == [.requests, .transactions, .pagesSwept, .references])
    }
}
