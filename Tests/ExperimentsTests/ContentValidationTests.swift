import Foundation
import Testing
@testable import Experiments
import Hypervisor
import OvercommitSupport
import Scenarios
import Simulation

private let repoRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The published shape of real guests' duplicate content, checked on short runs of the
/// validation scenarios (docs/validation.md has the full runs and the scanner's figures).
///
/// Each run is followed by a census of the guests' memory (`GuestMemoryImage` +
/// `ImageAnalysis`: every backed page hashed, duplicates confirmed byte for byte), the method
/// of Barker et al. (USENIX ATC 2012); the host's scanner is switched off to keep the runs
/// short (it converges to the same counts, `ImageAnalysisTests`). The bounds are the papers'
/// shapes, not this version's exact figures.
@Suite struct ContentValidationTests {
    /// Runs `file` for `seconds` (guests' count changed to `count` if given) and takes the census.
    func census(_ file: String, seconds: Double, count: Int? = nil) throws -> ImageAnalysis {
        let path = repoRoot + "/Configs/validation/" + file
        var c = try ScenarioLoader.load(text: try String(contentsOfFile: path, encoding: .utf8), file: path)
        c.duration = .ms(Int64(seconds * 1000))
        c.sample_interval = c.duration
        c.host.sharing.enabled = false
        if let n = count { c.guests[0].count = n }
        let sim = try Simulation(config: c, options: SimulationOptions())
        _ = sim.run()
        var options = ImageAnalysisOptions()
        options.codecs = []
        return ImageAnalysis.analyze(sim.host.vms.map { GuestMemoryImage(vm: $0, generator: sim.generator) }, options: options)
    }

    /// Barker et al.: sharing without zero pages stays under 15 % of memory, and about 90 % of
    /// it is inside individual machines.
    @Test func mixedServersShareLittleAndMostlyInsideEachVM() throws {
        let a = try census("mixed-servers.yaml", seconds: 5)
        let nonZero = Double(a.unsalted.pagesSharing) / Double(a.pages)
        let intra = Double(a.salted.pagesSharing) / Double(max(1, a.unsalted.pagesSharing))
        let figures = "non-zero sharing \(formatFixed(100 * nonZero, 1)) % of \(a.pages) pages, intra-VM \(formatFixed(100 * intra, 1)) %"
        #expect(a.unsalted.pagesSharing > 0, "\(figures)")
        #expect(nonZero < 0.15, "\(figures)")
        #expect(intra >= 0.8, "\(figures)")
        // Each VM has duplicates of its own (read(2) copies, program data, copied files).
        #expect(a.images.filter { $0.duplicateInImagePages > 0 }.count >= 5, "\(a.images.map(\.duplicateInImagePages))")
    }

    /// Waldspurger, OSDI 2002: one Linux VM alone already shares a few MB, a little over half
    /// of it zero pages; identical VMs then share far more, across VMs.
    @Test func aLoneESXGuestSharesAFewMBMostlyZeroPages() throws {
        let one = try census("tps-identical-vms.yaml", seconds: 6, count: 1)
        let g = one.images[0]
        let sharedMiB = Double(g.zeroPages + g.duplicateInImagePages) / 256
        let zeroShare = Double(g.zeroPages) / Double(g.zeroPages + g.duplicateInImagePages)
        let figures = "\(formatFixed(sharedMiB, 1)) MiB shared, \(formatFixed(100 * zeroShare, 1)) % zero pages"
        #expect(g.duplicateInImagePages > 0, "\(figures)")
        #expect(sharedMiB >= 2 && sharedMiB <= 40, "\(figures)")
        #expect(zeroShare > 0.5 && zeroShare < 0.75, "\(figures)")
        let two = try census("tps-identical-vms.yaml", seconds: 6, count: 2)
        // Two identical VMs (no ASLR, no KASLR, the same inputs): most of what the second holds
        // is already in the first.
        #expect(two.unsalted.pagesSharing > 8 * two.salted.pagesSharing, "\(two.unsalted) vs \(two.salted)")
    }
}
