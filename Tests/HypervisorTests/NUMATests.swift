import Testing
import OvercommitTestSupport
@testable import GuestKernel
@testable import Hypervisor
import OvercommitSupport
import PageContents

/// NUMA on the host: frames belong to nodes, VMs get home nodes and allocate from them first,
/// KSM's merge_across_nodes decides whether pages of different nodes merge, and guest
/// accesses to frames on another node than the page's own pay the remote-access cost.
@Suite struct NUMATests {
    /// A 2-node host of `mib` MiB (16 MiB of it the hypervisor's, on node 0).
    func twoNodeHost(mib: Int = 256, _ tweak: (inout HostConfig) -> Void = { _ in }) -> HostMemory {
        makeHost(mib: mib) {
            $0.numa.nodes = 2
            tweak(&$0)
        }
    }

    /// Writes `pages` fresh anonymous pages in a new process; returns the process and its first page.
    @discardableResult
    func writePages(_ k: GuestKernel, _ pages: Int) -> (PID, VPN) {
        let pid = k.spawn(name: "writer")
        let v = k.mmap(pid, pages: pages).value!
        for i in 0..<pages { _ = k.access(pid, v + VPN(i), write: true) }
        return (pid, v)
    }

    /// Private frames of `vm` per node.
    func framesPerNode(_ host: HostMemory, _ vm: VirtualMachine) -> [Int] {
        var n = [0, 0]
        for i in 0..<vm.configuredPages {
            if case .machine(let m) = vm.p2m[i] { n[host.numaTopology.node(of: m)] += 1 }
        }
        return n
    }

    @Test func nodesSplitTheFramesAndKeepTheirOwnFreeCounts() {
        let host = twoNodeHost { $0.numa.node_memory = [.mib(96), .mib(160)] }
        #expect(host.numaTopology.start == [0, 96 * 256, 256 * 256])
        let nodes = host.nodeSnapshots()
        #expect(nodes.map(\.memory) == [96 * 256, 160 * 256])
        #expect(nodes.map(\.hypervisor) == [16 * 256, 0])
        #expect(nodes.map(\.free) == [80 * 256, 160 * 256])
        #expect(host.checkInvariants().isEmpty)
        // One node (the default): no per-node figures, the host's are the node's.
        #expect(makeHost().nodeSnapshots().isEmpty)
    }

    @Test func placementIsRoundRobinUnlessTheVMNamesItsNode() {
        let host = twoNodeHost()
        let homes = ["a", "b", "c"].map { addGuest(host, $0).1.numa.homeNode }
        #expect(homes == [0, 1, 0], "ESX's initial placement: first VM on node 0, the next on node 1, ...")
        let pinned = addGuest(host, "d") { $0.numaHomeNode = 0 }.1
        #expect(pinned.numa.homeNode == 0)
        let mostFree = twoNodeHost { $0.numa.placement = .most_free }
        #expect(addGuest(mostFree, "a").1.numa.homeNode == 1, "node 1 has the hypervisor's 16 MiB more free")
    }

    @Test func aVMAllocatesOnItsHomeNodeThenFallsBackToTheOther() {
        let host = twoNodeHost()
        let (k, vm) = addGuest(host, "a", mib: 64) { $0.numaHomeNode = 1 }
        writePages(k, 2000)
        let onHome = framesPerNode(host, vm)
        #expect(onHome[0] == 0 && onHome[1] > 2000, "every frame from the home node: \(onHome)")
        #expect(vm.numaStat[3 * 1] == vm.privatePages, "numa_hit on node 1 counts every allocation")
        #expect(vm.numaStat[3 * 1 + 2] == 0 && vm.numaStat[3 * 0 + 1] == 0, "no numa_foreign, no numa_miss")

        // Fill node 0 with a VM homed there, then a second VM homed on node 0 falls back to node 1.
        let (k2, _) = addGuest(host, "filler", mib: 128) { $0.numaHomeNode = 0 }
        writePages(k2, 120 * 256 - 4096)
        let (k3, vm3) = addGuest(host, "late", mib: 32) { $0.numaHomeNode = 0 }
        writePages(k3, 1000)
        let late = framesPerNode(host, vm3)
        #expect(late[1] > 1000, "node 0 is full: the frames come from node 1: \(late)")
        let nodes = host.nodeSnapshots()
        #expect(nodes[0].free == 0)
        #expect(vm3.numaStat[3 * 1 + 1] == late[1], "numa_miss on node 1 for every frame it gave")
        #expect(vm3.numaStat[3 * 0 + 2] == late[1], "numa_foreign on node 0 for the same frames")
        #expect(nodes[1].numaMiss >= late[1] && nodes[0].numaForeign >= late[1])
        expectHostConsistent(host, "after fallback")
    }

    @Test func aVMLargerThanANodeSpansNodesByGuestPhysicalRange() {
        let host = twoNodeHost(mib: 512)
        let (k, vm) = addGuest(host, "wide", mib: 320, swapMiB: 0)
        #expect(vm.numa.virtualNodes == [0, 1])
        #expect(vm.numa.pagesPerVirtualNode == 160 * 256)
        #expect(vm.numa.node(ofPage: 0) == 0 && vm.numa.node(ofPage: 160 * 256) == 1)
        writePages(k, 40_000)
        for i in 0..<vm.configuredPages {
            guard case .machine(let m) = vm.p2m[i] else { continue }
            let node = host.numaTopology.node(of: m)
            #expect(node == vm.numa.node(ofPage: i), "pfn \(i) on node \(node)")
            if node != vm.numa.node(ofPage: i) { break }
        }
        expectHostConsistent(host, "wide VM")
    }

    @Test func aWideVMsGuestHasOneNodePerVirtualNodeAndPaysForAccessesFromTheOtherNode() {
        let host = twoNodeHost(mib: 512)
        let costs = host.costs
        let (k, vm) = addGuest(host, "wide", mib: 320, swapMiB: 0)
        #expect(k.buddy.nodeCount == 2 && k.buddy.nodeStart == [0, vm.numa.pagesPerVirtualNode, vm.configuredPages])
        let (p0, v0) = writePages(k, 500)
        let (p1, v1) = writePages(k, 500)
        #expect(k.process(p0)!.node == 0 && k.process(p1)!.node == 1)
        for (pid, v, node) in [(p0, v0, 0), (p1, v1, 1)] {
            for i in 0..<500 {
                let pfn = Int(PTE(raw: k.pteValue(k.process(pid)!, v + VPN(i))).pfn)
                #expect(k.buddy.node(of: pfn) == node && vm.backingNode(pfn) == vm.numa.virtualNodes[node], "pid \(pid) pfn \(pfn)")
            }
        }
        let before = k.vmstat.numaRemoteAccesses
        for i in 0..<500 {
            #expect(k.access(p0, v0 + VPN(i), write: false).cost == costs.memory_access.nanoseconds)
            #expect(k.access(p1, v1 + VPN(i), write: false).cost == costs.memory_access.nanoseconds)
        }
        #expect(k.vmstat.numaRemoteAccesses == before, "each process reads its own node's memory")
        // A child of p1 runs on node 0 (the third process) and reads p1's pages on host node 1.
        let c = try! k.fork(p1).get()
        #expect(k.process(c)!.node == 0)
        for i in 0..<500 {
            #expect(k.access(c, v1 + VPN(i), write: false).cost == costs.memory_access.nanoseconds + costs.remote_access.nanoseconds)
        }
        #expect(k.vmstat.numaRemoteAccesses == before + 500)
        let nodes = k.nodeStats
        #expect(nodes.map(\.hostNode) == [0, 1] && nodes[0].numaHit >= 500 && nodes[1].numaHit >= 500)
        expectHostConsistent(host, "wide guest")
    }

    /// Four VMs, two per node (a, c on node 0; b, d on node 1), read the same file.
    func shareAcrossNodes(mergeAcrossNodes: Int) -> (HostMemory, [VirtualMachine], [Set<UInt32>]) {
        let host = twoNodeHost {
            $0.sharing.salting = 0; $0.sharing.pages_to_scan = 5000; $0.sharing.merge_across_nodes = mergeAcrossNodes
        }
        var vms: [VirtualMachine] = []
        var nodesMapped: [Set<UInt32>] = []
        var files: [(GuestKernel, FileID)] = []
        for (name, home) in [("a", 0), ("b", 1), ("c", 0), ("d", 1)] {
            let (k, vm) = addGuest(host, name) { $0.numaHomeNode = home }
            vms.append(vm)
            files.append((k, readCommonFile(k, pages: 100).1))
        }
        runScans(host, 3)
        for (vm, (k, f)) in zip(vms, files) {
            var s = Set<UInt32>()
            for p in 0..<100 {
                guard let pfn = k.files[Int(f)].cachedFrame(p), case .shared(let n) = vm.p2m[Int(pfn)], n != SharedFrames.zeroNode else { continue }
                s.insert(n)
            }
            nodesMapped.append(s)
        }
        return (host, vms, nodesMapped)
    }

    @Test func mergeAcrossNodesZeroSharesOnlyWithinANode() {
        let (host, _, mapped) = shareAcrossNodes(mergeAcrossNodes: 0)
        #expect(mapped[0].count == 100 && mapped[1].count == 100, "every file page shared on its own node")
        #expect(mapped[0] == mapped[2] && mapped[1] == mapped[3], "a and c (node 0), b and d (node 1) share the same frames")
        #expect(mapped[0].isDisjoint(with: mapped[1]), "a (node 0) and b (node 1) never share a frame")
        for n in mapped[0] { #expect(host.numaTopology.node(of: host.sharing.shared.frame(of: n)) == 0) }
        for n in mapped[1] { #expect(host.numaTopology.node(of: host.sharing.shared.frame(of: n)) == 1) }
        let nodes = host.nodeSnapshots()
        #expect(nodes[0].pagesShared >= 100 && nodes[1].pagesShared >= 100, "one copy per node: \(nodes.map(\.pagesShared))")
        expectHostConsistent(host, "merge_across_nodes 0")
    }

    @Test func mergeAcrossNodesOneSharesAcrossNodesAndMakesAccessesRemote() {
        let (host, vms, mapped) = shareAcrossNodes(mergeAcrossNodes: 1)
        #expect(mapped[0].count == 100 && mapped.allSatisfy { $0 == mapped[0] }, "one frame per page for all four VMs")
        let remote = vms.map { vm in
            (0..<vm.configuredPages).filter { i in vm.backingNode(i).map { $0 != vm.numa.homeNode } ?? false }.count
        }
        // The shared frames live on one node: the VMs of the other node map them remotely.
        #expect(remote.filter { $0 >= 100 }.count == 2, "the two VMs of one node map the file remotely: \(remote)")
        let (perNode, _, _) = shareAcrossNodes(mergeAcrossNodes: 0)
        #expect(host.sharing.pages_sharing > perNode.sharing.pages_sharing, "merging across nodes saves more")
        expectHostConsistent(host, "merge_across_nodes 1")
    }

    @Test func theKernelRefusesToChangeMergeAcrossNodesWhilePagesAreShared() {
        let (host, _, _) = shareAcrossNodes(mergeAcrossNodes: 0)
        #expect(host.sharing.pages_shared > 0)
        if case .busy = host.writeKSM(.merge_across_nodes, 1) {} else { Issue.record("EBUSY expected while pages are shared") }
        #expect(host.ksmTunables.merge_across_nodes == 0 && !host.sharing.mergeAcrossNodes)
        _ = host.writeKSM(.run, 2)
        #expect(host.writeKSM(.merge_across_nodes, 1) == .written(unmerged: 0))
        #expect(host.sharing.mergeAcrossNodes)
    }

    @Test func remoteAccessesPayTheRemoteCostExactlyAndLocalOnesDoNot() {
        let host = twoNodeHost()
        let costs = host.costs
        // Node 0 full: a VM homed there gets its frames from node 1 (remote).
        let (k0, _) = addGuest(host, "filler", mib: 128) { $0.numaHomeNode = 0 }
        writePages(k0, 112 * 256 - 4096)
        let (k, vm) = addGuest(host, "v", mib: 32) { $0.numaHomeNode = 0 }
        let (pid, v) = writePages(k, 64)
        var remotePages = 0
        var localPages = 0
        for i in 0..<64 {
            let pfn = Int(PTE(raw: k.pteValue(k.processes[Int(pid)]!, v + VPN(i))).pfn)
            let isRemote = vm.backingNode(pfn).map { $0 != vm.numa.homeNode } ?? false
            let before = k.vmstat.numaRemoteAccesses
            for _ in 0..<3 {
                let o = k.access(pid, v + VPN(i), write: false)
                #expect(o.result == .hit)
                #expect(o.cost == costs.memory_access.nanoseconds + (isRemote ? costs.remote_access.nanoseconds : 0), "pfn \(pfn) remote \(isRemote)")
            }
            #expect(k.vmstat.numaRemoteAccesses - before == (isRemote ? 3 : 0))
            if isRemote { remotePages += 1 } else { localPages += 1 }
        }
        #expect(remotePages > 0, "some pages had to come from node 1")
        #expect(k.vmstat.numaRemoteNs == Int64(k.vmstat.numaRemoteAccesses) * costs.remote_access.nanoseconds)
        // A one-node host charges nothing.
        let flat = makeHost()
        let (kf, _) = addGuest(flat, "f")
        let (pf, vf) = writePages(kf, 16)
        for i in 0..<16 { #expect(kf.access(pf, vf + VPN(i), write: false).cost == costs.memory_access.nanoseconds) }
        #expect(kf.vmstat.numaRemoteAccesses == 0)
        expectHostConsistent(host, "remote accesses")
        _ = localPages
    }
}
