import Testing
@testable import GuestKernel
@testable import Hypervisor
import HostPolicies
import OvercommitSupport
import PageContents

/// A host for tests: `mib` MiB of RAM, 16 MiB for the hypervisor, 4 MiB of overhead per VM.
func makeHost(mib: Int = 256, _ tweak: (inout HostConfig) -> Void = { _ in }) -> HostMemory {
    var c = HostConfig()
    c.memory = .mib(UInt64(mib))
    c.hypervisor_reserved = .mib(16)
    c.vm_overhead = .mib(4)
    c.large_pages = false
    tweak(&c)
    let h = HostMemory(config: c, costs: CostModel(), seed: 5)
    h.verifyDecompressedBytes = true
    return h
}

/// A powered-on, booted guest of `mib` MiB with a content shadow, on `host`.
@discardableResult
func addGuest(_ host: HostMemory, _ name: String, mib: Int = 32, swapMiB: Int = 32,
              _ tweak: (inout VMResourceSettings) -> Void = { _ in }) -> (GuestKernel, VirtualMachine) {
    var c = GuestKernelConfig()
    c.kernel_reserved = .mib(4)
    let k = GuestKernel(name: name, memoryPages: mib * 256, config: c, swap: SwapDeviceConfig(size: .mib(UInt64(swapMiB)), device: .ssd),
                        costs: CostModel(), seed: 7, kernelImageSeed: 99, kernelImagePages: 256)
    k.enableContentShadow()
    var s = VMResourceSettings()
    s.shares = 10 * Double(mib)
    s.balloonMaxPages = mib * 256 * 65 / 100
    tweak(&s)
    let vm = host.addVM(name: name, kernel: k, settings: s)
    #expect(host.powerOn(vm))
    _ = k.boot()
    return (k, vm)
}

/// Host invariants (frame conservation, p2m counts, sharing tables) and every guest page's
/// bytes, resolved wherever the host keeps them, against what the guest last wrote.
func expectHostConsistent(_ host: HostMemory, _ where_: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    let problems = host.checkInvariants()
    #expect(problems.isEmpty, "\(where_): \(problems.prefix(5).joined(separator: "; "))", sourceLocation: sourceLocation)
    for vm in host.vms {
        let k = vm.guest as! GuestKernel
        let kp = k.checkInvariants()
        #expect(kp.isEmpty, "\(where_) \(vm.name): \(kp.prefix(5).joined(separator: "; "))", sourceLocation: sourceLocation)
        let gen = host.generator
        let lost = k.shadow!.verify(k, frameHash: { host.hashOfGuestPage(vm, $0) }, contentHash: { c in gen.withBytes(c) { PageHash.xxh3($0) } })
        #expect(lost.isEmpty, "\(where_) \(vm.name): \(lost.prefix(5).joined(separator: "; "))", sourceLocation: sourceLocation)
    }
}

/// Runs the sharing scanner until `scans` more full scans completed.
func runScans(_ host: HostMemory, _ scans: Int) {
    let target = host.sharing.full_scans + scans
    var guardCount = 0
    while host.sharing.full_scans < target && guardCount < 1_000_000 {
        _ = host.runSharingScanner()
        guardCount += 1
    }
}

/// Reads `pages` pages of a file every guest registers with the same seed (identical bytes).
func readCommonFile(_ k: GuestKernel, pages: Int, seed: UInt64 = 42, style: ContentStyle = .text) -> (PID, FileID) {
    let f = k.registerFile(path: "/usr/lib/common.so", pages: pages, style: style, contentSeed: seed)
    let pid = k.spawn(name: "reader")
    for i in 0..<pages { _ = k.fileRead(pid, file: f, page: i) }
    return (pid, f)
}

/// Where the host keeps guest frame `pfn`.
func location(_ vm: VirtualMachine, _ pfn: PFN) -> String {
    switch vm.p2m[Int(pfn)] {
    case .unbacked: return "unbacked"
    case .overdraft: return "overdraft"
    case .machine: return "private"
    case .shared(let node): return node == SharedFrames.zeroNode ? "zero" : "shared"
    case .compressed: return "compressed"
    case .swapped: return "swapped"
    }
}

extension Result {
    var value: Success? { if case .success(let v) = self { return v } else { return nil } }
}

/// Breaks the large page of region `r` of `vm` as the reclaim scheduler does; with
/// `shareFirst`, subpages with precomputed hashes are shared at once. Returns the frames freed.
@discardableResult
func breakLargePage(_ host: HostMemory, _ vm: VirtualMachine, _ r: Int, shareFirst: Bool) -> Int {
    LargePageBreaking().breakLargePage(r, of: vm, shareFirst: shareFirst, on: host)
}
