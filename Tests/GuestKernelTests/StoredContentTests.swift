import Testing
@testable import GuestKernel
import OvercommitSupport
import OvercommitTestSupport
import PageContents

/// Stores of known contents, read(2) into user buffers, address-space layouts and KASLR: how a
/// guest comes to hold pages identical to other pages.
@Suite struct StoredContentTests {
    @Test func aStoreLeavesExactlyTheGivenContentsOnEveryFaultPath() {
        let k = makeTestKernel()
        let pid = k.spawn(name: "a")
        let base = k.mmap(pid, pages: 4).value!
        let c = PageContent(style: .text, seed: 42)
        // First touch (zero fill), then a hit, then after a read mapped the zero page (COW from it).
        #expect(k.access(pid, base, storing: c).result == .zeroFill)
        #expect(k.access(pid, base + 1, write: true).result == .zeroFill)
        #expect(k.access(pid, base + 1, storing: c).result == .hit)
        #expect(k.access(pid, base + 2, write: false).result == .minorFault)
        #expect(k.access(pid, base + 2, storing: c).result == .zeroFill)
        for v in 0..<VPN(3) {
            #expect(k.content(of: PTE(raw: k.pteValue(k.process(pid)!, base + v)).pfn) == c)
        }
        // The next plain write gets fresh contents again.
        _ = k.access(pid, base + 3, write: true)
        #expect(k.content(of: PTE(raw: k.pteValue(k.process(pid)!, base + 3)).pfn) != c)
        // After fork, a store into a copy-on-write page copies, then stores.
        let child = k.fork(pid).value!
        let d = PageContent(style: .pointers, seed: 7)
        #expect(k.access(child, base, storing: d).result == .cowCopy)
        #expect(k.content(of: PTE(raw: k.pteValue(k.process(child)!, base)).pfn) == d)
        #expect(k.content(of: PTE(raw: k.pteValue(k.process(pid)!, base)).pfn) == c)
        expectConsistent(k, "after stores")
    }

    @Test func readIntoAUserBufferCopiesThePageCacheBytes() {
        let k = makeTestKernel()
        let f = k.registerFile(path: "/data", pages: 16, style: .pointers, contentSeed: 99)
        let pid = k.spawn(name: "reader")
        let buf = k.mmap(pid, pages: 16).value!
        let (r, copy) = k.read(pid, file: f, page: 3, into: buf)
        #expect(r.result == .majorFault)
        #expect(copy?.result == .zeroFill)
        let cached = k.files[Int(f)].cachedFrame(3)!
        let user = PTE(raw: k.pteValue(k.process(pid)!, buf)).pfn
        #expect(user != cached)
        #expect(k.content(of: user) == k.content(of: cached))
        #expect(k.content(of: user) == k.files[Int(f)].diskContent(3))
        // A page written with write(2) is copied as written, not as it was on disk.
        _ = k.fileWrite(pid, file: f, page: 5)
        _ = k.read(pid, file: f, page: 5, into: buf + 1)
        let written = k.content(of: k.files[Int(f)].cachedFrame(5)!)
        #expect(written != k.files[Int(f)].diskContent(5))
        #expect(k.content(of: PTE(raw: k.pteValue(k.process(pid)!, buf + 1)).pfn) == written)
        // A read that fails copies nothing.
        #expect(k.read(pid, file: f, page: 16, into: buf + 2).copy == nil)
        #expect(k.read(999, file: f, page: 0, into: buf).copy == nil)
        expectConsistent(k, "after reads")
    }

    @Test func execRandomisesTheLayoutUnlessASLRIsOffAndForkKeepsIt() {
        let aslr = makeTestKernel()
        let a = aslr.spawn(name: "a"), b = aslr.spawn(name: "a")
        #expect(aslr.process(a)!.layoutSeed != 0)
        #expect(aslr.process(a)!.layoutSeed != aslr.process(b)!.layoutSeed)
        let child = aslr.fork(a).value!
        #expect(aslr.process(child)!.layoutSeed == aslr.process(a)!.layoutSeed)
        let fixed = makeTestKernel { $0.randomize_va_space = 0 }
        let c = fixed.spawn(name: "a"), d = fixed.spawn(name: "b")
        #expect(fixed.process(c)!.layoutSeed == fixed.process(d)!.layoutSeed)
        // Layouts are per guest: the same pid in another guest gets another layout.
        let other = GuestKernel(name: "other", memoryPages: 64 * 256, config: aslr.config, swap: aslr.swapConfig, costs: CostModel(), seed: 7)
        #expect(other.process(other.spawn(name: "a"))!.layoutSeed != aslr.process(a)!.layoutSeed)
    }

    /// Two guests of one image: kernel text pages equal without KASLR; with KASLR only the
    /// pages without a relocation (1 - kernel_relocated of them) stay equal.
    @Test(arguments: [false, true])
    func kaslrPatchesTheRelocatedShareOfTheKernelImage(kaslr: Bool) {
        var c = GuestKernelConfig()
        c.kernel_reserved = .mib(16)
        c.kaslr = kaslr
        func guest(_ name: String) -> GuestKernel {
            GuestKernel(
                name: name, memoryPages: 64 * 256, config: c, swap: SwapDeviceConfig(size: .mib(16), device: .ssd),
                costs: CostModel(), seed: 5, kernelImageSeed: 1234, kernelImagePages: 3000, kernelRelocated: 0.59)
        }
        let a = guest("a"), b = guest("b")
        let same = (0..<3000).filter { a.content(of: PFN($0)) == b.content(of: PFN($0)) }.count
        if kaslr {
            // 41 % of 3000 pages, within a few standard deviations of the binomial.
            #expect((1140...1320).contains(same), "\(same) of 3000 kernel pages equal")
        } else {
            #expect(same == 3000)
        }
        // Booting again does not change what the frames hold.
        let before = (0..<3000).map { a.content(of: PFN($0)) }
        _ = a.boot()
        #expect((0..<3000).map { a.content(of: PFN($0)) } == before)
    }
}
