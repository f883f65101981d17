import Testing
@testable import Hypervisor
import OvercommitSupport
import PageContents

/// The shared frames' stable index against a plain dictionary model: one node per hash (the
/// newest), nodes leave it at max_page_sharing and when their last mapping goes, colliding
/// hashes probe past each other, and deletions keep every other node findable.
@Suite struct SharedFramesTests {
    @Test(arguments: [UInt64(1), 2, 3])
    func theStableIndexAgreesWithADictionaryModel(seed: UInt64) {
        var r = Xoshiro256(seed: seed, component: "stable-index-property")
        let frames = MachineMemory(totalFrames: 1 << 16, hypervisorFrames: 16, minFreePages: 0)
        let s = SharedFrames(frames: frames, maxPageSharing: 4)
        var model: [UInt64: UInt32] = [:]
        var refs: [UInt32: Int] = [:]
        var hashOf: [UInt32: UInt64] = [:]
        var live: [UInt32] = []
        // Few distinct hashes (4800), so new nodes often replace an older one with the same hash.
        func drawHash() -> UInt64 { (r.next() & 0xF) << 60 | UInt64(r.int(below: 300)) << 8 }
        for step in 0..<20_000 {
            switch r.int(below: 3) {
            case 0:
                guard let f = frames.allocate() else { continue }
                let h = drawHash()
                let n = s.create(frame: f, content: PageContent(style: .text, seed: UInt64(step)), hash: h, salt: r.chance(0.5) ? 0 : 7)
                model[h] = n; refs[n] = 1; hashOf[n] = h; live.append(n)
            case 1:
                guard !live.isEmpty else { continue }
                let n = live[r.int(below: live.count)]
                s.addMapping(n)
                refs[n]! += 1
                if refs[n]! >= 4, model[hashOf[n]!] == n { model[hashOf[n]!] = nil }
            default:
                guard !live.isEmpty else { continue }
                let k = r.int(below: live.count)
                let n = live[k]
                s.dropMapping(n)
                refs[n]! -= 1
                if refs[n]! == 0 {
                    refs[n] = nil
                    live.swapAt(k, live.count - 1)
                    live.removeLast()
                    if model[hashOf[n]!] == n { model[hashOf[n]!] = nil }
                }
            }
            if step % 997 == 0 {
                let mappings = s.mappingCounts.indices.map { $0 == 0 ? 0 : refs[UInt32($0)] ?? 0 }
                let problems = s.checkInvariants(mappings: mappings)
                #expect(problems.isEmpty, "seed \(seed), step \(step): \(problems.prefix(3))")
            }
        }
        for (h, n) in model.sorted(by: { $0.key < $1.key }) { #expect(s.lookup(h) == n, "seed \(seed): hash \(h)") }
        #expect(s.index.count == model.count, "seed \(seed)")
        #expect(s.pages_shared == refs.count, "seed \(seed)")
        for n in live.sorted() { #expect(s.salt(of: n) == 0 || s.salt(of: n) == 7) }
    }
}
