import GuestKernel
import OvercommitSupport
import Testing

@testable import Workloads

/// The prefetch lookahead (`ReferenceLookahead`): it must draw each reference once in the
/// steady state and follow the workload's stream, or the hints are wasted (results cannot
/// change: the golden tests and the byte-for-byte output comparisons check that).
@Suite struct ReferenceLookaheadTests {
    @Test func drawsEachReferenceOnceWhileInStep() {
        let k = makeKernel()
        let ahead = ReferenceLookahead()
        var rng = Xoshiro256(seed: 11)
        var draws = 0
        let n = 1_000
        for _ in 0..<n {
            ahead.advance(rng, kernel: k) { r, _ in
                draws += 1
                return .init(pid: 1, vpn: VPN(r.int(below: 1 << 20)), write: r.chance(0.3))
            }
            _ = rng.int(below: 1 << 20)
            _ = rng.chance(0.3)
        }
        // The first call fills the ring (distance + 1 draws), then one draw per reference.
        #expect(draws == n + ReferenceLookahead.distance)
        #expect(ahead.restarts == 0)
    }

    @Test func startsAgainWhenTheStreamMovedElsewhere() {
        let k = makeKernel()
        let ahead = ReferenceLookahead()
        var rng = Xoshiro256(seed: 12)
        var offsets: [Int] = []
        for step in 0..<20 {
            ahead.advance(rng, kernel: k) { r, offset in
                offsets.append(offset)
                return .init(pid: 1, vpn: VPN(r.int(below: 4096)), write: false)
            }
            _ = rng.int(below: 4096)
            if step == 9 { _ = rng.next() }  // something else drew from the stream
        }
        #expect(ahead.restarts == 1)
        // Offsets count from the reference about to be drawn: a fresh ring draws 0...distance,
        // then each call adds the one `distance` ahead.
        let d = ReferenceLookahead.distance
        #expect(Array(offsets.prefix(d + 2)) == Array(0...d) + [d])
    }

    @Test func databaseLookaheadFollowsTheWorkload() throws {
        let k = makeKernel()
        var p = DatabaseWorkloadParameters()
        p.buffer_pool = .mib(64)
        let w = try make(.database(p), k) as! DatabaseWorkload
        var c = makeContext()
        drive(w, on: k, seconds: 1, context: &c)
        #expect(c.stats.references > 50_000)
        // Only a (re)start of the server moves the stream elsewhere.
        #expect(w.ahead.restarts <= c.stats.restarts + 1)
    }

    @Test func webLookaheadStartsAgainOncePerRequestAtMost() throws {
        let k = makeKernel()
        var p = WebWorkloadParameters()
        p.worker_memory = .mib(8)
        let w = try make(.web(p), k) as! WebWorkload
        var c = makeContext()
        drive(w, on: k, seconds: 1, context: &c)
        #expect(c.stats.operations > 100)
        // A request's document is drawn when it begins, which the lookahead does not foresee.
        #expect(w.ahead.restarts <= c.stats.operations + c.stats.forks + 1)
        #expect(w.ahead.restarts * 20 < c.stats.references)
    }

    @Test func spawnerLookaheadFollowsTheChildren() throws {
        let k = makeKernel()
        var p = SpawnerWorkloadParameters()
        p.fork_rate = 20
        p.lifetime = .ms(500)
        p.parent_memory = .mib(16)
        p.child_memory = .mib(2)
        let w = try make(.spawner(p), k) as! SpawnerWorkload
        var c = makeContext()
        drive(w, on: k, seconds: 2, context: &c)
        #expect(c.stats.forks > 20)
        // Forks, exits and a child's set-up move the stream (or the set of children).
        #expect(w.ahead.restarts <= 3 * c.stats.forks + 1)
        #expect(w.ahead.restarts * 50 < c.stats.references)
    }
}
