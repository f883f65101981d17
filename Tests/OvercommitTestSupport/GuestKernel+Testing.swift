import Testing
@testable import GuestKernel
import OvercommitSupport
import PageContents

/// A small guest for tests: `memory` of RAM, `swap` on an SSD, `kernelReserved` kept by the
/// kernel (nil: Linux's derived reserve), the content shadow on so that `expectConsistent`
/// can verify every page's bytes.
public func makeTestKernel(
    name: String = "test", memory: ByteCount = .mib(64), swap: ByteCount = .mib(32),
    kernelReserved: ByteCount? = .mib(4), seed: UInt64 = 7, kernelImageSeed: UInt64 = 0,
    kernelImagePages: Int = 0, contentShadow: Bool = true,
    _ tweak: (inout GuestKernelConfig) -> Void = { _ in }
) -> GuestKernel {
    var c = GuestKernelConfig()
    c.kernel_reserved = kernelReserved
    tweak(&c)
    let k = GuestKernel(
        name: name, memoryPages: memory.pages, config: c, swap: SwapDeviceConfig(size: swap, device: .ssd),
        costs: CostModel(), seed: seed, kernelImageSeed: kernelImageSeed, kernelImagePages: kernelImagePages)
    if contentShadow { k.enableContentShadow() }
    return k
}

/// Fails the test with every invariant problem of the guest, and with every page whose bytes
/// differ from what was last written to it. `frameHash` hashes a guest frame's bytes
/// wherever they are (default: the frame's own contents, for a guest without a host);
/// `generator` produces the bytes of what was written (default: one without memory images).
public func expectConsistent(
    _ k: GuestKernel, _ where_: String = "", frameHash: ((PFN) -> UInt64)? = nil,
    generator: PageGenerator = PageGenerator(), sourceLocation: SourceLocation = #_sourceLocation
) {
    let problems = k.checkInvariants()
    #expect(problems.isEmpty, "\(where_): \(problems.prefix(5).joined(separator: "; "))", sourceLocation: sourceLocation)
    guard let shadow = k.shadow else { return }
    let gen = generator
    func hash(_ c: PageContent) -> UInt64 { gen.withBytes(c) { PageHash.xxh3($0) } }
    let lost = shadow.verify(k, frameHash: frameHash ?? { hash(k.content(of: $0)) }, contentHash: hash)
    #expect(lost.isEmpty, "\(where_): \(lost.prefix(5).joined(separator: "; "))", sourceLocation: sourceLocation)
}

extension Result {
    /// The success value, or nil.
    public var value: Success? { if case .success(let v) = self { return v } else { return nil } }
}
