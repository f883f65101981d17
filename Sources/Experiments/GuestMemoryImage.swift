import GuestKernel
import Hypervisor
import PageContents

/// The memory a simulated guest holds on the host, read as a memory image: every
/// guest-physical page the host backs (its EPT entry grants access), in frame order.
///
/// `ImageAnalysis` over the guests of a run measures what Barker et al. (USENIX ATC 2012)
/// measured on real machines — hash every page, then count duplicates inside each machine
/// and across machines — without waiting for a scanner to converge: its `salted` sharing is
/// the sharing inside each VM, `unsalted` the sharing across all of them. Pages the host
/// holds compressed or in its swap file are left out (their bytes are not in the guest
/// frame); guest pages never touched are not backed and not counted, as on a real host.
public struct GuestMemoryImage: ImageAnalysisInput {
    public let name: String
    /// The guest as the host sees it (its EPT and frame contents).
    let guest: any GuestPhysicalMemory
    let generator: PageGenerator
    /// The backed frames, in order.
    let frames: [PFN]

    /// The backed memory of `vm`; `generator` produces page bytes (the host's).
    public init(vm: VirtualMachine, generator: PageGenerator) {
        name = vm.name
        guest = vm.guest
        self.generator = generator
        let ept = vm.guest.ept
        var backed: [PFN] = []
        for i in 0..<vm.guest.totalPages where ept[i] & 3 != 0 {
            let pfn = PFN(i)
            if vm.guest.content(of: pfn) != .hostHeld { backed.append(pfn) }
        }
        frames = backed
    }

    public var byteCount: Int { frames.count * pageSize }
    public var pageCount: Int { frames.count }

    public func withPage<R>(_ i: Int, _ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
        try generator.withBytes(guest.content(of: frames[i]), body)
    }
}
