import Testing
@testable import GuestKernel
@testable import Hypervisor
import HostPolicies
import OvercommitSupport
import PageContents

/// A host for tests: `mib` MiB of RAM, 16 MiB for the hypervisor, 4 MiB of overhead per VM,
/// small pages, decompressed bytes verified.
public func makeHost(mib: Int = 256, _ tweak: (inout HostConfig) -> Void = { _ in }) -> HostMemory {
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
public func addGuest(
    _ host: HostMemory, _ name: String, mib: Int = 32, swapMiB: Int = 32,
    _ tweak: (inout VMResourceSettings) -> Void = { _ in }
) -> (GuestKernel, VirtualMachine) {
    let k = makeTestKernel(name: name, memory: .mib(UInt64(mib)), swap: .mib(UInt64(swapMiB)), kernelImageSeed: 99, kernelImagePages: 256)
    var s = VMResourceSettings()
    s.shares = 10 * Double(mib)
    s.balloonMaxPages = mib * 256 * 65 / 100
    tweak(&s)
    let vm = host.addVM(name: name, kernel: k, settings: s)
    #expect(host.powerOn(vm))
    _ = k.boot()
    return (k, vm)
}

/// Host invariants (frame conservation, p2m counts, sharing tables), every guest's
/// invariants, and every guest page's bytes, resolved wherever the host keeps them, against
/// what the guest last wrote.
public func expectHostConsistent(_ host: HostMemory, _ where_: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    let problems = host.checkInvariants()
    #expect(problems.isEmpty, "\(where_): \(problems.prefix(5).joined(separator: "; "))", sourceLocation: sourceLocation)
    for vm in host.vms {
        guard let k = vm.guest as? GuestKernel else { continue }
        expectConsistent(
            k, "\(where_) \(vm.name)", frameHash: { vm.hashOfPage($0) }, generator: host.generator,
            sourceLocation: sourceLocation)
    }
}

/// Runs the sharing scanner until `scans` more full scans completed.
public func runScans(_ host: HostMemory, _ scans: Int) {
    let target = host.sharing.full_scans + scans
    var guardCount = 0
    while host.sharing.full_scans < target && guardCount < 1_000_000 {
        _ = host.runSharingScanner()
        guardCount += 1
    }
}

/// Reads `pages` pages of a file every guest registers with the same seed (identical bytes).
public func readCommonFile(_ k: GuestKernel, pages: Int, seed: UInt64 = 42, style: ContentStyle = .text) -> (PID, FileID) {
    let f = k.registerFile(path: "/usr/lib/common.so", pages: pages, style: style, contentSeed: seed)
    let pid = k.spawn(name: "reader")
    for i in 0..<pages { _ = k.fileRead(pid, file: f, page: i) }
    return (pid, f)
}

/// Where the host keeps guest frame `pfn`: unbacked, overdraft, private, zero, shared,
/// compressed or swapped.
public func location(_ vm: VirtualMachine, _ pfn: PFN) -> String {
    switch vm.p2m[Int(pfn)] {
    case .unbacked: return "unbacked"
    case .overdraft: return "overdraft"
    case .machine: return "private"
    case .shared(let node): return node == SharedFrames.zeroNode ? "zero" : "shared"
    case .compressed: return "compressed"
    case .swapped: return "swapped"
    }
}

/// Breaks the large page of region `r` of `vm` as the reclaim scheduler does; with
/// `shareFirst`, subpages with precomputed hashes are shared at once. Returns the frames freed.
@discardableResult
public func breakLargePage(_ host: HostMemory, _ vm: VirtualMachine, _ r: Int, shareFirst: Bool) -> Int {
    LargePageBreaking().breakLargePage(r, of: vm, shareFirst: shareFirst, on: host)
}
