import Testing
@testable import HostPolicies

@Suite struct MinFreeTests {
    static let gib = 262_144  // pages per GiB

    @Test func firstBandIsSixPercent() {
        #expect(MinFree.pages(hostPages: 4 * Self.gib) == 62_914)  // 6 % of 1 048 576 pages, rounded down
        #expect(MinFree.pages(hostPages: 0) == 0)
        #expect(MinFree.pages(hostPages: -5) == 0)
    }

    @Test func twentyEightGiBIsVMwaresFigure() {
        // 6 % of 4 GiB + 4 % of 8 GiB + 2 % of 16 GiB = 245.76 + 327.68 + 327.68 MiB = 901.12 MiB.
        let p = MinFree.pages(hostPages: 28 * Self.gib)
        #expect(p == 230_686)
        // VMware quotes 899 MiB (ESXi scales the slightly smaller memory the vmkernel manages).
        #expect(abs(Double(p) / 256 - 899) < 3)
    }

    @Test func largerHostsAddOnePercent() {
        let p64 = MinFree.pages(hostPages: 64 * Self.gib)
        let p256 = MinFree.pages(hostPages: 256 * Self.gib)
        #expect(p64 == 325_058)  // 901.12 MiB + 1 % of 36 GiB (368.64 MiB) = 1269.76 MiB
        #expect(p256 == 828_375)  // 901.12 MiB + 1 % of 228 GiB (2334.72 MiB) = 3235.84 MiB
        #expect(p256 - p64 == 503_317)  // 1 % of 192 GiB = 503 316.48 pages
    }
}
