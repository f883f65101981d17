import Foundation
import GuestKernel
import OvercommitSupport
import Scenarios
import Testing
@testable import Simulation

/// zswap and zram in whole runs: the keys and their checks, and the three guests of
/// Configs/guest-zswap.yaml in a short slice.
@Suite struct GuestZswapRunTests {
    func problems(_ text: String) -> [String] {
        do {
            _ = try ScenarioLoader.load(text: text, file: "z.yaml")
            return []
        } catch {
            return error.errors.map { "\($0.keyPath): \($0.message)" }
        }
    }

    @Test func zswapAndZramKeysAreChecked() {
        #expect(
            problems("guests: [{name: a, kernel: {zswap: {enabled: true}}, swap: {kind: zram}}]")
                == ["guests[0].kernel.zswap.enabled: zswap in front of a zram swap device would compress every page twice; use one of them"])
        #expect(problems("guests: [{name: a, swap: {kind: zram, comp_algorithm: lzo}}]").first?.contains("swap.comp_algorithm: unknown codec 'lzo'") == true)
        #expect(problems("guests: [{name: a, swap: {mem_limit: 64MiB}}]") == ["guests[0].swap.mem_limit: applies to a zram device only (kind: zram)"])
        #expect(problems("guests: [{name: a, kernel: {zswap: {compressor: zip}}}]").first?.contains("zswap.compressor: unknown value 'zip'") == true)
        #expect(problems("guests: [{name: a, kernel: {zswap: {max_pool_percent: 0}}}]").first?.contains("must be between 1 and 100") == true)
        #expect(problems("guests: [{name: a, kernel: {zswap: {enabled: true, compressor: zstd}}, swap: {kind: disk}}]").isEmpty)
    }

    @Test func zswapAndZramShortenSwapStallsAndTheirPoolIsGuestMemory() throws {
        let text = try String(contentsOfFile: repoRoot + "/Configs/guest-zswap.yaml", encoding: .utf8)
        var c = try ScenarioLoader.load(text: text, file: "guest-zswap.yaml")
        c.duration = .seconds(5)
        var o = SimulationOptions()
        // Invariants and every page's bytes at each sample and at the end.
        o.check = true
        o.checkAfterEachTick = false
        let r = try Simulation(config: c, options: o).run()
        #expect(r.checkProblems.isEmpty, "\(r.checkProblems.prefix(3))")
        let disk = r.guests[0].state, zswap = r.guests[1].state, zram = r.guests[2].state
        func eat(_ s: GuestState) -> Double { Double(s.vmstat.accessTimeNs) / Double(max(1, s.vmstat.accesses)) }
        #expect(disk.vmstat.pswpout > 0 && disk.vmstat.zswpout == 0 && disk.meminfo.Zswap == 0)
        #expect(zswap.vmstat.zswpout > 0 && zswap.meminfo.Zswap > 0)
        #expect(zram.meminfo.compressedSwap.isZram && zram.meminfo.compressedSwap.poolPages > 0)
        #expect(eat(zswap) < eat(disk) && eat(zram) < eat(disk), "EAT disk \(eat(disk)) zswap \(eat(zswap)) zram \(eat(zram))")
        // The pool lives in guest RAM: the pool's pages are not free, and never above 20 %
        // of MemTotal (plus the zspage being filled).
        #expect(zswap.meminfo.Zswap <= zswap.meminfo.MemTotal / 5 + 16)
    }
}
