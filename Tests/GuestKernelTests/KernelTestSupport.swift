import Testing
@testable import GuestKernel
import OvercommitSupport
import PageContents

/// A small guest for tests: `mib` MiB of RAM, `swapMiB` of swap, kernel reserve 4 MiB.
func makeKernel(mib: Int = 64, swapMiB: Int = 32, _ tweak: (inout GuestKernelConfig) -> Void = { _ in }) -> GuestKernel {
    var c = GuestKernelConfig()
    c.kernel_reserved = .mib(4)
    tweak(&c)
    let k = GuestKernel(name: "test", memoryPages: mib * 256, config: c, swap: SwapDeviceConfig(size: .mib(UInt64(swapMiB)), device: .ssd),
                        costs: CostModel(), seed: 7)
    k.enableContentShadow()
    return k
}

/// Fails the test with every invariant problem.
func expectConsistent(_ k: GuestKernel, _ where_: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    let problems = k.checkInvariants()
    #expect(problems.isEmpty, "\(where_): \(problems.prefix(5).joined(separator: "; "))", sourceLocation: sourceLocation)
    let gen = PageGenerator()
    func h(_ c: PageContent) -> UInt64 { gen.withBytes(c) { PageHash.xxh3($0) } }
    let lost = k.shadow!.verify(k, frameHash: { h(k.content(of: $0)) }, contentHash: h)
    #expect(lost.isEmpty, "\(where_): \(lost.prefix(5).joined(separator: "; "))", sourceLocation: sourceLocation)
}

extension Result {
    var value: Success? { if case .success(let v) = self { return v } else { return nil } }
}
