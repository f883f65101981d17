import Testing
import OvercommitTestSupport
@testable import GuestKernel
import OvercommitSupport
import PageContents

/// Random sequences of system calls and accesses on a small guest under memory pressure,
/// with every invariant and every page's contents checked along the way. Seeds are pinned;
/// a failure names its seed and step so it can be replayed alone.
@Suite struct KernelPropertyTests {
    /// Every registered policy that runs without a trace's future (OPT has its own tests).
    static let policies = ReplacementPolicyKind.allCases.filter { !$0.needsFutureReferences }
    static let seeds: [UInt64] = Array(1...3)
    let checkEvery = 25

    @Test(arguments: policies, seeds)
    func randomOperationsKeepTheKernelConsistent(policy: ReplacementPolicyKind, seed: UInt64) {
        randomOperations(policy: policy, seed: seed, swapStore: nil)
    }

    /// The same with the guest's swap-outs compressed in guest RAM: zswap (with a small pool
    /// limit, so write-back runs) or a zram device (half the time with a mem_limit, so
    /// writes fail).
    @Test(arguments: ["zswap", "zram"], seeds)
    func randomOperationsKeepACompressedSwapGuestConsistent(store: String, seed: UInt64) {
        randomOperations(policy: .linux, seed: seed, swapStore: store)
    }

    func randomOperations(policy: ReplacementPolicyKind, seed: UInt64, swapStore: String?) {
        var r = Xoshiro256(seed: seed, component: "kernel-property-" + policy.rawValue + (swapStore ?? ""))
        let mode = r.int(below: 3)
        let swapSize: ByteCount = .mib(r.chance(0.2) ? 0 : 16)
        var c = GuestKernelConfig()
        c.kernel_reserved = .mib(4)
        c.replacement_policy = policy
        c.overcommit_memory = mode
        c.swappiness = r.int(in: 0...200)
        c.page_cluster = r.int(below: 4)
        var device = SwapDeviceConfig(size: swapSize, device: .ssd)
        if swapStore == "zswap" {
            c.zswap.enabled = true
            c.zswap.max_pool_percent = r.int(in: 2...20)
        } else if swapStore == "zram" {
            device = SwapDeviceConfig(zram: swapSize, memLimit: r.chance(0.5) ? .mib(1) : nil)
        }
        let k = GuestKernel(name: "test", memoryPages: ByteCount.mib(24).pages, config: c, swap: device, costs: CostModel(), seed: 7)
        k.enableContentShadow()
        let f = k.registerFile(path: "/data", pages: 3000, style: .text, contentSeed: seed)
        var pids: [PID] = [k.spawn(name: "p0")]
        var maps: [(PID, VPN, Int)] = []
        for step in 0..<2500 {
            pids.removeAll { !k.isAlive($0) }
            if pids.isEmpty { pids.append(k.spawn(name: "p\(step)")) }
            let pid = pids[r.int(below: pids.count)]
            let op = r.int(below: 100)
            switch op {
            case 0..<4:
                if case .success(let v) = k.mmap(pid, pages: r.int(in: 1...600), shared: r.chance(0.15)) {
                    maps.append((pid, v, 0))
                }
            case 4..<6:
                let pages = r.int(in: 1...200)
                if case .success(let v) = k.mmap(
                    pid, pages: pages, protection: r.chance(0.5) ? .read : .readWrite,
                    backing: .file(f, offset: r.int(below: 3000 - pages)), shared: r.chance(0.5))
                {
                    maps.append((pid, v, 0))
                }
            case 6..<8:
                let mine = maps.filter { $0.0 == pid }
                if let m = mine.randomElement(using: &r) { _ = k.munmap(pid, start: m.1 + VPN(r.int(below: 20)), pages: r.int(in: 1...100)) }
            case 8..<10: _ = k.brk(pid, deltaPages: r.int(in: -50...150))
            case 10..<12: if pids.count < 6, case .success(let c) = k.fork(pid) { pids.append(c) }
            case 12: if pids.count > 1 { k.exit(pid) }
            case 13: if let m = maps.filter({ $0.0 == pid }).randomElement(using: &r) { _ = k.mlock(pid, start: m.1, pages: r.int(in: 1...30)) }
            case 14..<18: _ = r.chance(0.5) ? k.fileRead(pid, file: f, page: r.int(below: 3000)) : k.fileWrite(pid, file: f, page: r.int(below: 3000))
            case 18: _ = k.runKswapd()
            case 19: k.runPeriodicAging(dirtyExpired: r.chance(0.3))
            default:
                // A burst of accesses to one of the process's mappings or its heap.
                let mine = maps.filter { $0.0 == pid }
                let heap = k.heapRange(pid)
                for _ in 0..<20 {
                    let vpn: VPN
                    if let m = mine.randomElement(using: &r), r.chance(0.8) {
                        vpn = m.1 + VPN(r.int(below: 600))
                    } else if !heap.isEmpty {
                        vpn = heap.lowerBound + VPN(r.int(below: heap.count))
                    } else {
                        break
                    }
                    _ = k.access(pid, vpn, write: r.chance(0.5))
                }
            }
            if step % checkEvery == 0 || step == 2499 {
                let problems = k.checkInvariants()
                #expect(problems.isEmpty, "seed \(seed) step \(step) (policy \(policy), mode \(mode)): \(problems.prefix(4).joined(separator: "; "))")
                if !problems.isEmpty { return }
            }
        }
        expectConsistent(k, "seed \(seed) end (policy \(policy), mode \(mode))")
        #expect(k.vmstat.accesses > 1000, "seed \(seed)")
        if swapStore == "zswap" && swapSize.bytes > 0 { #expect(k.vmstat.zswpout > 0, "seed \(seed): zswap stored nothing") }
        if swapStore == "zram" && swapSize.bytes > 0 {
            #expect(k.vmstat.pswpout > 0 && k.vmstat.zswpout == 0, "seed \(seed): nothing was written to zram")
        }
    }
}

extension Array {
    func randomElement(using r: inout Xoshiro256) -> Element? { isEmpty ? nil : self[r.int(below: count)] }
}
