import GuestKernel
import OvercommitSupport
import PageContents
import Testing
@testable import Workloads

@Suite struct GeneratorTests {
    @Test func idleDaemonsKeepASmallResidentSet() throws {
        let k = makeKernel()
        var p = IdleWorkloadParameters()
        p.resident = .mib(16)
        let w = try make(.idle(p), k)
        var c = makeContext()
        let anonBefore = k.anonPages
        drive(w, on: k, seconds: 2, context: &c)
        #expect(!w.isFinished)
        #expect(c.stats.spawns == 4)
        #expect(c.stats.zeroFills >= ByteCount.mib(16).pages)
        #expect(k.anonPages - anonBefore >= ByteCount.mib(16).pages)
        // After start-up it references at about access_rate (1000/s): rarely.
        let populate = ByteCount.mib(16).pages
        #expect(c.stats.references - populate > 1_500 && c.stats.references - populate < 2_100)
        #expect(c.stats.idleNs == 0)
    }

    @Test func webServesFromThePageCache() throws {
        let k = makeKernel()
        var p = WebWorkloadParameters()
        p.worker_memory = .mib(8)
        let w = try make(.web(p), k)
        var c = makeContext()
        var cacheAt: [Int] = []
        var missesAt: [(calls: Int, disk: Int)] = []
        drive(w, on: k, seconds: 3, context: &c) { t, c in
            if t % 500_000_000 == 0 { cacheAt.append(k.filePages) }
            if t % 1_000_000_000 == 0 { missesAt.append((c.stats.fileReads, k.vmstat.fileReads)) }
        }
        #expect(c.stats.forks == 4)
        #expect(c.stats.operations > 500)
        // The page cache grows as documents are read...
        #expect(cacheAt.count == 6)
        #expect(cacheAt.last! > cacheAt.first!)
        #expect(k.filePages > ByteCount.mib(16).pages)
        // ...one read(2) per page served...
        let calls = c.stats.fileReads + c.stats.references
        #expect(abs(Double(c.stats.fileReads) / Double(calls) - 1.0 / 7.0) < 0.02)
        // ...and as popular documents stay cached, fewer reads go to disk.
        #expect(missesAt.count == 3)
        let firstMissRatio = Double(missesAt[0].disk) / Double(missesAt[0].calls)
        let lastMissRatio = Double(missesAt[2].disk - missesAt[1].disk) / Double(missesAt[2].calls - missesAt[1].calls)
        #expect(lastMissRatio < firstMissRatio * 0.9)
        // File I/O dominates the time spent in the kernel.
        #expect(c.stats.majorFaults > 0)
        #expect(c.stats.fileWrites == c.stats.operations)
        // Workers only read the master's memory: no copy-on-write.
        #expect(c.stats.cowCopies == 0)
    }

    @Test func databaseHotSetGetsMostReferences() throws {
        let k = makeKernel()
        var p = DatabaseWorkloadParameters()
        p.buffer_pool = .mib(64)
        p.private_fraction = Percentage(percent: 0)
        p.io_fraction = Percentage(percent: 0)
        p.binary = ""
        let w = try make(.database(p), k) as! DatabaseWorkload
        var c = makeContext()
        drive(w, on: k, seconds: 1, context: &c)
        let share = Double(c.stats.hotReferences) / Double(c.stats.references)
        #expect(abs(share - 0.8) < 0.01)
        // The pool warms up from the data file: one read per pool page first touched.
        #expect(c.stats.fileReads > 0)
        #expect(c.stats.fileReads <= ByteCount.mib(64).pages)
        #expect(c.stats.operations == c.stats.references / 100)
        // The hot set is 20 % of the pool, scattered.
        let pool = ByteCount.mib(64).pages
        let hot = (0..<pool).filter { w.isHot(poolPage: $0) }
        #expect(hot.count == Int((Double(pool) * 0.2).rounded()))
        #expect(hot.first! < pool / 10 && hot.last! > pool * 9 / 10)
    }

    @Test func databaseMlockPinsThePool() throws {
        let k = makeKernel()
        var p = DatabaseWorkloadParameters()
        p.buffer_pool = .mib(32)
        p.mlock = true
        let w = try make(.database(p), k)
        var c = makeContext()
        drive(w, on: k, seconds: 0.5, context: &c)
        #expect(c.stats.mlockFailures == 0)
        #expect(k.mlockedPages > 1000)
    }

    @Test func batchGrowsItsHeapThenExits() throws {
        let k = makeKernel()
        var p = BatchWorkloadParameters()
        p.peak = .mib(64)
        p.step = .mib(8)
        p.sweeps = 1
        let w = try make(.batch(p), k) as! BatchWorkload
        var c = makeContext()
        var heaps: [Int] = []
        drive(w, on: k, seconds: 10, context: &c) { _, _ in heaps.append(w.heapPages) }
        #expect(w.isFinished)
        #expect(w.largestHeap == ByteCount.mib(64).pages)
        // The heap grew in several steps, never shrinking, then was freed at once.
        let end = heaps.lastIndex { $0 > 0 }!
        let growth = Array(heaps[...end])
        #expect(Set(growth).count > 3)
        #expect(zip(growth.dropLast(), growth.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(heaps[(end + 1)...].allSatisfy { $0 == 0 })
        #expect(c.stats.allocations == 8)
        #expect(c.stats.spawns == 1 && c.stats.exits == 1 && c.stats.operations == 1)
        #expect(c.stats.freedPages == ByteCount.mib(64).pages)
        #expect(k.livePIDs.isEmpty)
        #expect(c.stats.zeroFills >= ByteCount.mib(64).pages)
    }

    @Test func batchRepeatsWithNewProcesses() throws {
        let k = makeKernel()
        var p = BatchWorkloadParameters()
        p.peak = .mib(8)
        p.step = .mib(4)
        p.repeat = true
        p.repeat_delay = .ms(200)
        let w = try make(.batch(p), k)
        var c = makeContext()
        drive(w, on: k, seconds: 2, context: &c)
        #expect(!w.isFinished)
        #expect(c.stats.operations >= 3)
        #expect(c.stats.spawns >= c.stats.operations)
        #expect(c.stats.idleNs > 0)
    }

    @Test func batchFreeAdviceKeepsOneProcessAndMadvisesItsHeap() throws {
        // 8 MiB jobs every 200 ms in a roomy guest: nothing is reclaimed between jobs.
        func run(_ advice: FreeAdvice) throws -> (WorkloadStats, VMStat, rss: Int) {
            let k = makeKernel()
            var p = BatchWorkloadParameters()
            p.peak = .mib(8)
            p.step = .mib(4)
            p.repeat = true
            p.repeat_delay = .ms(200)
            p.free_advice = advice
            let w = try make(.batch(p), k)
            var c = makeContext()
            drive(w, on: k, seconds: 2, context: &c)
            #expect(c.stats.operations >= 3)
            let pid = (w as! BatchWorkload).process
            return (c.stats, k.vmstat, k.process(pid).map { $0.rssAnon } ?? -1)
        }
        let heap = ByteCount.mib(8).pages
        let (munmap, mv, _) = try run(.munmap)
        let (dontneed, dv, dontneedRSS) = try run(.dontneed)
        let (free, fv, freeRSS) = try run(.free)
        #expect(munmap.spawns >= munmap.operations && mv.madvise_calls == 0)
        #expect(dontneed.spawns == 1 && free.spawns == 1)
        #expect(dv.madvise_calls == dontneed.operations && fv.madvise_calls == free.operations)
        // DONTNEED: every job zero-fills its heap again; FREE: only the first job does, the
        // later ones write the lazily freed pages in place (nothing was reclaimed).
        #expect(dontneed.zeroFills >= heap * dontneed.operations)
        #expect(free.zeroFills < heap * 2)
        // pglazyfree counts a page when it loses PG_swapbacked; a page written after
        // MADV_FREE regains it only when reclaim looks at it, so later calls do not count again.
        #expect(fv.pglazyfree == heap)
        #expect(fv.pglazyfreed == 0)
        #expect(dontneedRSS >= 0 && freeRSS >= 0)
    }

    @Test func batchBacksOffAndGivesUpUnderStrictOvercommit() throws {
        // CommitLimit = 64 MiB swap + 50 % of 256 MiB: a 1 GiB peak can never be committed.
        let k = makeKernel(swap: .mib(64), overcommit: 2)
        var p = BatchWorkloadParameters()
        p.peak = .gib(1)
        p.step = .mib(64)
        p.max_retries = 3
        p.retry_interval = .ms(50)
        let w = try make(.batch(p), k)
        var c = makeContext()
        drive(w, on: k, seconds: 2, context: &c)
        #expect(w.isFinished)
        #expect(c.stats.refusedAllocations == 4)
        #expect(c.stats.failedOperations == 1)
        #expect(c.stats.operations == 0)
        #expect(k.livePIDs.isEmpty)
    }

    @Test func leakIsRefusedUnderStrictOvercommitAndKeepsRunning() throws {
        let k = makeKernel(swap: .mib(64), overcommit: 2)
        var p = LeakWorkloadParameters()
        p.rate = .mib(128)
        let w = try make(.leak(p), k) as! LeakWorkload
        var c = makeContext()
        drive(w, on: k, seconds: 3, context: &c)
        let refused = c.stats.refusedAllocations
        let refs = c.stats.references
        #expect(refused > 0)
        #expect(!w.isFinished)
        #expect(k.isAlive(w.process))
        #expect(k.vmstat.oom_kill == 0)
        // It keeps retrying and working.
        drive(w, on: k, seconds: 1, context: &c)
        #expect(c.stats.refusedAllocations > refused)
        #expect(c.stats.references > refs)
        #expect(!w.isFinished)
    }

    @Test func leakEndsInAnOOMKill() throws {
        let k = makeKernel(swap: .mib(32))
        var p = LeakWorkloadParameters()
        p.rate = .mib(256)
        let w = try make(.leak(p), k) as! LeakWorkload
        var c = makeContext()
        drive(w, on: k, seconds: 20, context: &c)
        #expect(w.isFinished)
        #expect(c.stats.killed == 1)
        #expect(k.vmstat.oom_kill >= 1)
        #expect(!k.isAlive(w.process))
        #expect(w.leakedPages > ByteCount.mib(200).pages)
    }

    @Test func bootReadsTheImageThroughThePageCache() throws {
        let k = makeKernel()
        let w = BootWorkload(files: ["/usr/lib/libc.so.6", "/usr/sbin/nginx", "/missing/file", "/var/www/html"])
        var c = makeContext()
        drive(w, on: k, seconds: 5, context: &c)
        #expect(w.isFinished)
        #expect(c.stats.operations == 3)
        #expect(c.stats.failedOperations == 1)
        let expected = ByteCount.mib(2).pages * 2 + ByteCount.mib(32).pages
        #expect(c.stats.fileReads == expected)
        #expect(k.filePages >= expected)
        #expect(k.isAlive(w.process))
        #expect(k.process(w.process)?.oomScoreAdj == -1000)
    }

    @Test func bootSpecDefaultsToTheImageFiles() throws {
        let k = makeKernel()
        var p = BootWorkloadParameters()
        p.max_per_file = .mib(1)
        let w = try make(.boot(p), k)
        var c = makeContext()
        drive(w, on: k, seconds: 5, context: &c)
        #expect(w.isFinished)
        #expect(c.stats.operations == imageFiles.count)
        #expect(c.stats.fileReads == imageFiles.count * 256)
    }

    @Test func spawnerChurnsProcessesThatShareMemoryCopyOnWrite() throws {
        let k = makeKernel()
        var p = SpawnerWorkloadParameters()
        p.fork_rate = 20
        p.lifetime = .ms(500)
        p.parent_memory = .mib(16)
        p.child_memory = .mib(2)
        let w = try make(.spawner(p), k) as! SpawnerWorkload
        var c = makeContext()
        drive(w, on: k, seconds: 5, context: &c)
        #expect(c.stats.forks > 60 && c.stats.forks < 140)
        #expect(c.stats.operations > 40)
        #expect(c.stats.cowCopies > 0)
        #expect(c.stats.exits == c.stats.operations)
        #expect(k.livePIDs.count == 1 + w.children)
    }

    @Test func stopAtEndsTheWorkloadAndItsProcesses() throws {
        let k = makeKernel()
        var p = WebWorkloadParameters()
        p.worker_memory = .mib(4)
        p.start_at = .ms(200)
        p.stop_at = .ms(700)
        let w = try make(.web(p), k)
        var c = makeContext()
        drive(w, on: k, seconds: 2, context: &c)
        #expect(w.isFinished)
        #expect(k.livePIDs.isEmpty)
        #expect(c.stats.idleNs >= 200_000_000)
        #expect(c.stats.operations > 0)
    }

    @Test func slowdownEmergesFromFaults() throws {
        // Without faults the achieved rate is access_rate; with faults it is lower.
        let k = makeKernel()
        var p = IdleWorkloadParameters()
        p.resident = .mib(4)
        p.daemons = 1
        p.access_rate = 100_000
        let w = try make(.idle(p), k)
        var c = makeContext()
        drive(w, on: k, seconds: 0.2, context: &c)  // start-up writes
        let before = c.stats.references
        drive(w, on: k, seconds: 1, context: &c)
        let rate = Double(c.stats.references - before)
        #expect(abs(rate - 100_000) < 1_000)
    }

    @Test func sameSeedSameStatistics() throws {
        func runAll(_ seed: UInt64) throws -> [WorkloadStats] {
            var out: [WorkloadStats] = []
            var web = WebWorkloadParameters(); web.worker_memory = .mib(8)
            var db = DatabaseWorkloadParameters(); db.buffer_pool = .mib(96)
            var sp = SpawnerWorkloadParameters(); sp.fork_rate = 20
            for spec in [WorkloadSpec.web(web), .database(db), .spawner(sp)] {
                let k = makeKernel(memory: .mib(128), swap: .mib(64))
                let w = try make(spec, k, seed: seed)
                var c = makeContext(seed: seed)
                drive(w, on: k, seconds: 1, context: &c)
                out.append(c.stats)
            }
            return out
        }
        let a = try runAll(11)
        #expect(a == (try runAll(11)))
        #expect(a != (try runAll(12)))
    }
}
