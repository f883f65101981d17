import Foundation
import Testing
import Reports
import Scenarios
@testable import Simulation

/// The NUMA scenario end to end: the same bytes whatever the thread count, every invariant
/// (per-node frame conservation included) after every tick, the per-node counters in the
/// outputs of a multi-node host only, and merge_across_nodes' trade-off.
@Suite struct NUMAScenarioTests {
    static func load(_ tweak: (inout ScenarioConfig) -> Void = { _ in }) throws -> ScenarioConfig {
        let file = repoRoot + "/Configs/numa.yaml"
        var c = try ScenarioLoader.load(text: try String(contentsOfFile: file, encoding: .utf8), file: file)
        c.duration = .seconds(8)
        tweak(&c)
        return c
    }

    static func run(_ c: ScenarioConfig, threads: Int = 1, check: Bool = false) throws -> SimulationResult {
        var o = SimulationOptions()
        o.threads = threads
        o.check = check
        o.checkAfterEachTick = check
        return try Simulation(config: c, options: o).run()
    }

    @Test func oneAndTwoThreadsGiveTheSameFiles() throws {
        let c = try Self.load()
        let one = RunReport.files(try Self.run(c, threads: 1)).map(\.contents)
        let two = RunReport.files(try Self.run(c, threads: 2)).map(\.contents)
        #expect(one.count == two.count)
        for (k, (a, b)) in zip(one, two).enumerated() { #expect(a == b, "output file \(k) differs between 1 and 2 threads") }
    }

    @Test func everyInvariantHoldsAfterEveryTick() throws {
        let c = try Self.load {
            $0.duration = .seconds(2); $0.sample_interval = .ms(500)
        }
        let r = try Self.run(c, threads: 2, check: true)
        #expect(r.checksRun > 0)
        #expect(r.checkProblems.isEmpty, "\(r.checkProblems.prefix(3))")
    }

    @Test func nodeCountersAreWrittenForAMultiNodeHostOnly() throws {
        let r = try Self.run(try Self.load { $0.duration = .seconds(3) })
        let stats = RunReport.statsText(r, version: nil)
        #expect(stats.contains("host.node0.numa_hit") && stats.contains("host.node1.free_kb"))
        let nodes = r.hostState.snapshot.nodes
        #expect(nodes.count == 2)
        #expect(nodes.reduce(0) { $0 + $1.free } == r.hostState.snapshot.free, "node free memory sums to the host's")
        #expect(nodes.reduce(0) { $0 + $1.homedVMs } == 5)
        let json = RunReport.summaryJSON(r).rendered()
        #expect(json.contains("\"nodes\""))
        // Per guest: the wide VM spans both nodes, the pinned ones live on node 0.
        let wide = try #require(r.guests.first { $0.name == "wide" }?.state.host.numa)
        #expect(wide.virtualNodes == 2 && wide.homeNode == 0)
        #expect(r.guests.first { $0.name == "pinned-2" }?.state.host.numa?.homeNode == 0)
        #expect(stats.contains("guest.wide.numa.virtual_nodes"))
        let allocations = r.guests.reduce(0) { $0 + ($1.state.host.numa.map { $0.localAllocations + $0.remoteAllocations } ?? 0) }
        #expect(allocations == nodes.reduce(0) { $0 + $1.numaHit + $1.numaMiss }, "every allocation counted once, per VM and per node")
        let flat = try Self.run(
            try Self.load {
                $0.duration = .seconds(1); $0.host.numa.nodes = 1
            })
        #expect(!RunReport.statsText(flat, version: nil).contains("host.node"))
        #expect(!RunReport.statsText(flat, version: nil).contains(".numa."))
        #expect(flat.hostState.snapshot.nodes.isEmpty)
    }

    @Test func mergingAcrossNodesSavesMoreAndCostsRemoteAccesses() throws {
        let perNode = try Self.run(try Self.load())
        let across = try Self.run(try Self.load { $0.host.sharing.merge_across_nodes = 1 })
        func saved(_ r: SimulationResult) -> Int { r.hostState.snapshot.pagesSharing }
        func remote(_ r: SimulationResult, node: Int) -> Int { r.hostState.snapshot.nodes[node].remoteAccesses }
        #expect(saved(across) > saved(perNode), "merge_across_nodes 1 saves more: \(saved(across)) vs \(saved(perNode))")
        // web-2 is the only VM homed on node 1: with per-node sharing its pages stay local.
        #expect(remote(perNode, node: 1) == 0)
        #expect(remote(across, node: 1) > 0, "node 1's VM reads shared frames on node 0")
        // The pinned VMs fill node 0: their guests' pages fall back to node 1 either way.
        #expect(perNode.hostState.snapshot.nodes[0].numaForeign > 0)
    }

    @Test func hostTimeseriesHasPerNodeColumnsOnAMultiNodeHostOnly() throws {
        let r = try Self.run(try Self.load { $0.duration = .seconds(2) })
        let csv = RunReport.hostTimeseriesCSV(r)
        let header = csv.split(separator: "\n")[0].split(separator: ",").map(String.init)
        #expect(
            header.suffix(8) == [
                "node0.free_kb", "node0.consumed_kb", "node0.pages_shared", "node0.remote_accesses",
                "node1.free_kb", "node1.consumed_kb", "node1.pages_shared", "node1.remote_accesses",
            ])
        let rows = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(rows.allSatisfy { $0.count == header.count })
        // Node free memory adds up to the host's at every sample.
        let free = header.firstIndex(of: "free_kb")!, f0 = header.firstIndex(of: "node0.free_kb")!, f1 = header.firstIndex(of: "node1.free_kb")!
        for row in rows { #expect(Int(row[free])! == Int(row[f0])! + Int(row[f1])!) }
        let flat = try Self.run(
            try Self.load {
                $0.duration = .seconds(1); $0.host.numa.nodes = 1
            })
        #expect(!RunReport.hostTimeseriesCSV(flat).contains("node0."))
    }

    static func loadGuestScenario(_ tweak: (inout ScenarioConfig) -> Void = { _ in }) throws -> ScenarioConfig {
        let file = repoRoot + "/Configs/numa-guest.yaml"
        var c = try ScenarioLoader.load(text: try String(contentsOfFile: file, encoding: .utf8), file: file)
        c.duration = .seconds(7)
        tweak(&c)
        return c
    }

    @Test func aWideGuestAllocatesPerNodeAndVirtualNUMACutsRemoteAccesses() throws {
        let numa = try Self.run(try Self.loadGuestScenario(), check: false)
        let db = try #require(numa.guests.first { $0.name == "db" })
        #expect(db.nodes.count == 2 && db.nodes.map(\.hostNode) == [0, 1])
        #expect(db.nodes.allSatisfy { $0.processes >= 1 }, "processes on both nodes: \(db.nodes.map(\.processes))")
        let miss = db.nodes.reduce(0) { $0 + $1.numaMiss }, foreign = db.nodes.reduce(0) { $0 + $1.numaForeign }
        #expect(miss > 0 && miss == foreign, "the batch job's node filled and spilled to the other")
        let stats = RunReport.statsText(numa, version: nil)
        #expect(stats.contains("guest.db.node1.numa_miss") && !stats.contains("guest.app.node0."))
        let flat = try Self.run(try Self.loadGuestScenario { $0.guests[0].numa.virtual_numa = false })
        let flatDB = try #require(flat.guests.first { $0.name == "db" })
        #expect(flatDB.nodes.isEmpty, "without vNUMA the guest has one node")
        let remote = db.state.vmstat.numaRemoteAccesses, flatRemote = flatDB.state.vmstat.numaRemoteAccesses
        #expect(flatRemote > 2 * remote, "local allocation keeps each database on its node: \(remote) vs \(flatRemote)")
    }
}
