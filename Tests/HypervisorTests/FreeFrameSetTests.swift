import Testing
@testable import Hypervisor
import OvercommitSupport

/// The host's returned-frame bitmap against a sorted-set model, and the machine memory that
/// uses it: frames are conserved, reused lowest first, and never handed out twice.
@Suite struct FreeFrameSetTests {
    @Test(arguments: [UInt64(1), 2, 3])
    func theBitmapAgreesWithASortedSetModel(seed: UInt64) {
        var r = Xoshiro256(seed: seed, component: "free-frame-set-property")
        // A node that does not start at 0 and whose size is not a multiple of 64 frames.
        let first = 4096 + 64 * 7, frameCount = 300_000 + 13
        var set = FreeFrameSet(first: first, frameCount: frameCount)
        // The model: the frames in the set, sorted.
        var model: [UInt32] = []
        func position(_ f: UInt32) -> Int {
            var lo = 0, hi = model.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if model[mid] < f { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        for step in 0..<60_000 {
            if model.isEmpty || r.chance(0.55) {
                // Clustered frames (shared words) or anywhere in the node, its last frame included.
                let f = UInt32(first + (r.chance(0.5) ? Int(r.next(below: 2000)) : Int(r.next(below: UInt64(frameCount)))))
                let k = position(f)
                guard k == model.count || model[k] != f else { continue }
                set.insert(f)
                model.insert(f, at: k)
                #expect(set.contains(f), "seed \(seed), step \(step): frame \(f) inserted but not in the set")
            } else {
                #expect(set.popLowest() == model[0], "seed \(seed), step \(step): not the lowest frame")
                model.removeFirst()
            }
            #expect(set.count == model.count, "seed \(seed), step \(step)")
        }
        let last = UInt32(first + frameCount - 1)
        if position(last) == model.count {
            set.insert(last)
            model.append(last)
        }
        var drained: [UInt32] = []
        while let f = set.popLowest() { drained.append(f) }
        #expect(drained == model, "seed \(seed): draining lists every frame once, lowest first")
        #expect(set.count == 0 && set.popLowest() == nil)
    }

    @Test func machineMemoryReusesReturnedFramesLowestFirstThenFreshOnes() {
        let m = MachineMemory(totalFrames: 10_000, hypervisorFrames: 100, minFreePages: 0)
        let taken = (0..<1000).map { _ in m.allocate()! }
        #expect(taken == (100..<1100).map { UInt32($0) }, "fresh frames in order after the hypervisor's")
        for f in [UInt32(700), 300, 1099, 301] { m.release(f) }
        #expect(m.freeFrames == 10_000 - 100 - 1000 + 4)
        #expect([m.allocate(), m.allocate(), m.allocate(), m.allocate(), m.allocate()] == [300, 301, 700, 1099, 1100])
        #expect(m.checkInvariants().isEmpty)
    }
}
