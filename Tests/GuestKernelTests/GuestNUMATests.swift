import Testing
import OvercommitTestSupport
@testable import GuestKernel
import OvercommitSupport
import PageContents

/// NUMA inside a guest: one buddy allocator per node with its own watermarks, allocations that
/// prefer the task's node and fall back along the zonelist, one kswapd per node, numastat.
@Suite struct GuestNUMATests {
    /// A guest of `mib` MiB split into nodes of `nodeMiB` MiB, backed by host nodes 0, 1, ...
    func numaKernel(mib: Int = 64, nodeMiB: Int = 32, swapMiB: Int = 64) -> GuestKernel {
        let k = makeTestKernel(memory: .mib(UInt64(mib)), swap: .mib(UInt64(swapMiB)))
        let n = (mib + nodeMiB - 1) / nodeMiB
        k.setNUMANodes(framesPerNode: nodeMiB * 256, hostNodes: Array(0..<n))
        return k
    }

    @Test func nodesCoverTheVirtualNodeRangesAndTheWatermarksSplitMinFreeKbytes() {
        let k = numaKernel()
        #expect(k.buddy.nodeCount == 2)
        #expect(k.buddy.nodeStart == [0, 8192, 16384])
        #expect(k.buddy.nodes[0].managed == k.reservedPages..<8192 && k.buddy.nodes[1].managed == 8192..<16384)
        // __setup_per_zone_wmarks: min_free_kbytes from all managed pages, split by managed pages.
        let managed = [8192 - k.reservedPages, 8192]
        let total = managed[0] + managed[1]
        let mfk = max(128, Watermarks.intSqrt(total * 4 * 16))
        for (n, m) in managed.enumerated() {
            let w = k.buddy.marks[n]
            let min = (mfk / 4) * m / total
            let gap = max(min >> 2, m * 10 / 10000)
            #expect(w.minFreeKbytes == mfk && w.min == min && w.low == min + gap && w.high == min + 2 * gap, "node \(n): \(w)")
        }
        #expect(k.watermarks.min == k.buddy.marks[0].min + k.buddy.marks[1].min)
        #expect(k.watermarks.high == k.buddy.marks[0].high + k.buddy.marks[1].high)
        // One node: exactly the single-zone marks.
        let one = makeTestKernel(memory: .mib(64))
        #expect(Watermarks.perNode(managedPages: [one.managedPages], config: one.config) == [one.watermarks])
        #expect(!one.buddy.isNUMA && one.nodeStats.isEmpty)
    }

    @Test func allocationsPreferTheLocalNodeThenFallBackInZonelistOrder() {
        let frames = FrameTable(count: 3 * 8192)
        var a = PageAllocator(frames: frames, managed: 256..<(3 * 8192), framesPerNode: 8192)
        a.marks = Watermarks.perNode(managedPages: a.nodes.map(\.managedPages), config: GuestKernelConfig())
        a.preferred = 1
        a.localNode = 1
        var order: [Int] = []  // the node of each allocation, runs collapsed
        var perNode = [0, 0, 0]
        while let f = a.allocate(order: 0) {
            let n = a.node(of: Int(f))
            perNode[n] += 1
            if order.last != n { order.append(n) }
            if order.count == 3 {
                // Still in the fast path: every node served down to its low watermark only.
                if a.nodes[0].freePages == a.marks[0].low { break }
            }
        }
        #expect(order == [1, 2, 0], "local node, then the next nodes, wrapping: \(order)")
        #expect(a.nodes.indices.allSatisfy { a.nodes[$0].freePages == a.marks[$0].low }, "each node kept its low watermark")
        #expect(!a.kswapdWakeups.contains(true), "the fast path wakes no kswapd")
        // The next allocation fails the low watermarks everywhere: every kswapd wakes and the
        // local node serves down to its min watermark.
        let f = a.allocate(order: 0)!
        #expect(a.node(of: Int(f)) == 1 && a.kswapdWakeups == [true, true, true])
        perNode[1] += 1
        // numastat: hit on node 1, miss on 2 and 0, foreign on 1 for the same pages.
        let s = a.numaStat
        #expect(s[5 * 1] == perNode[1] && s[5 * 2 + 1] == perNode[2] && s[5 * 0 + 1] == perNode[0])
        #expect(s[5 * 1 + 2] == perNode[0] + perNode[2] && s[5 * 0 + 2] == 0 && s[5 * 2 + 2] == 0)
        var allocated = 0
        for n in 0..<3 { allocated += s[5 * n] + s[5 * n + 1] }
        #expect(allocated == a.managedPages - a.freePages, "numa_hit + numa_miss = pages allocated")
        #expect(s[5 * 1 + 3] == perNode[1] && s[5 * 2 + 4] == perNode[2], "local_node / other_node follow the CPU's node")
        #expect(a.checkInvariants().isEmpty)
    }

    @Test func processesAreSpreadRoundRobinAndAllocateOnTheirNode() {
        let k = numaKernel()
        let pids = (0..<4).map { k.spawn(name: "p\($0)") }
        #expect(pids.map { k.process($0)!.node } == [0, 1, 0, 1])
        let child = try! k.fork(pids[0]).get()
        #expect(k.process(child)!.node == 0, "fork places the child round robin too")
        for (i, pid) in pids.prefix(2).enumerated() {
            let v = k.mmap(pid, pages: 200).value!
            for j in 0..<200 { _ = k.access(pid, v + VPN(j), write: true) }
            let p = k.process(pid)!
            for j in 0..<200 {
                let pfn = Int(PTE(raw: k.pteValue(p, v + VPN(j))).pfn)
                #expect(k.buddy.node(of: pfn) == i, "pid \(pid) page \(j) on frame \(pfn)")
            }
        }
        let stats = k.nodeStats
        #expect(stats[0].numaMiss == 0 && stats[1].numaMiss == 0 && stats[0].numaHit >= 200 && stats[1].numaHit >= 200)
        expectConsistent(k, "two nodes")
    }

    @Test func spillingWakesNoKswapdAndEachNodesKswapdReclaimsOnlyItsNode() {
        let k = numaKernel()
        let p0 = k.spawn(name: "node0"), p1 = k.spawn(name: "node1")
        #expect(k.process(p0)!.node == 0 && k.process(p1)!.node == 1)
        let v0 = k.mmap(p0, pages: 12000).value!, v1 = k.mmap(p1, pages: 12000).value!
        var j0 = 0, j1 = 0
        // p0 fills node 0 down to its low watermark, then a few pages more: they go to node 1.
        while k.buddy.nodes[0].freePages > k.buddy.marks[0].low {
            _ = k.access(p0, v0 + VPN(j0), write: true)
            j0 += 1
        }
        for _ in 0..<50 { _ = k.access(p0, v0 + VPN(j0), write: true); j0 += 1 }
        var s = k.nodeStats
        #expect(s[1].numaMiss >= 50 && s[0].numaForeign == s[1].numaMiss, "the spilled pages: miss on 1, foreign on 0")
        #expect(k.runKswapd() == 0 && s.allSatisfy { $0.kswapdWakeups == 0 }, "spilling to another node wakes no kswapd")
        #expect(k.buddy.kswapdWakeups == [false, false])
        // p1 fills node 1 to its low watermark: the next allocation finds the whole zonelist
        // low and wakes both kswapds.
        while k.buddy.nodes[1].freePages > k.buddy.marks[1].low {
            _ = k.access(p1, v1 + VPN(j1), write: true)
            j1 += 1
        }
        #expect(k.buddy.kswapdWakeups == [false, false])
        _ = k.access(p1, v1 + VPN(j1), write: true)
        j1 += 1
        #expect(k.buddy.kswapdWakeups == [true, true])
        // p1 exits before kswapd runs: node 1 is balanced again, so only kswapd0 reclaims.
        k.exit(p1)
        #expect(k.buddy.nodes[1].freePages > k.buddy.marks[1].high)
        let free1 = k.buddy.nodes[1].freePages
        let freed = k.runKswapd()
        s = k.nodeStats
        #expect(s[0].kswapdWakeups == 1 && s[1].kswapdWakeups == 0, "kswapd1 found its node balanced and slept")
        #expect(freed > 0 && s[0].pgstealKswapd == freed && s[1].pgstealKswapd == 0)
        #expect(k.buddy.nodes[0].freePages >= k.buddy.marks[0].high, "kswapd0 balanced node 0")
        #expect(k.buddy.nodes[1].freePages == free1, "kswapd0 took no page of node 1")
        #expect(k.buddy.kswapdWakeups == [false, false])
        #expect(k.vmstat.pswpout > 0)
        // numastat adds up: every page allocated is a hit or a miss somewhere.
        let allocated = s.reduce(0) { $0 + $1.numaHit + $1.numaMiss }
        #expect(allocated == s.reduce(0) { $0 + $1.localNode + $1.otherNode })
        #expect(s.reduce(0) { $0 + $1.numaMiss } == s.reduce(0) { $0 + $1.numaForeign })
        expectConsistent(k, "after kswapd0")
        // Everything still reads back what was written.
        for i in 0..<j0 { _ = k.access(p0, v0 + VPN(i), write: false) }
        expectConsistent(k, "after reading back")
    }

    @Test func anAccessIsRemoteWhenTheFrameIsOnAnotherHostNodeThanTheAccessorsNode() {
        let k = numaKernel()
        let costs = CostModel()
        let parent = k.spawn(name: "parent")
        let v = k.mmap(parent, pages: 64).value!
        for j in 0..<64 { _ = k.access(parent, v + VPN(j), write: true) }
        // The host reports where it backs each frame: guest node n on host node n.
        for pfn in 0..<k.totalPages { k.setHostNode(PFN(pfn), k.buddy.node(of: pfn)) }
        let child = try! k.fork(parent).get()
        #expect(k.process(child)!.node == 1)
        let base = k.vmstat.numaRemoteAccesses
        for j in 0..<64 {
            for _ in 0..<2 {
                let local = k.access(parent, v + VPN(j), write: false)
                #expect(local.result == .hit && local.cost == costs.memory_access.nanoseconds)
                let remote = k.access(child, v + VPN(j), write: false)
                #expect(remote.result == .hit && remote.cost == costs.memory_access.nanoseconds + costs.remote_access.nanoseconds)
            }
        }
        #expect(k.vmstat.numaRemoteAccesses - base == 128, "exactly the child's reads")
        // The host moves a frame to host node 1: now the parent pays and the child does not.
        let pfn = PTE(raw: k.pteValue(k.process(parent)!, v)).pfn
        k.setHostNode(pfn, 1)
        #expect(k.access(parent, v, write: false).cost == costs.memory_access.nanoseconds + costs.remote_access.nanoseconds)
        #expect(k.access(child, v, write: false).cost == costs.memory_access.nanoseconds)
        expectConsistent(k, "remote accesses")
    }
}
