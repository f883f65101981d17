import Testing
import OvercommitSupport
import OvercommitTestSupport
import PageContents
@testable import GuestKernel

/// Free page reporting (Linux mm/page_reporting.c): PG_reported on free blocks, the notify on
/// frees of the reporting order, and the passes' order, capacity and budget.
@Suite struct PageReportingTests {
    @Test func reportedBlocksLoseTheFlagWhenAllocatedOrMerged() {
        let t = FrameTable(count: 2048)
        var b = BuddyAllocator(frames: t, managed: 0..<2048)
        b.reportingOrder = 9
        #expect(!b.reportingRequested, "the initial free memory does not notify")
        #expect(b.allocate(order: 9) == 0 && b.allocate(order: 9) == 512)
        b.free(512, order: 9)
        #expect(b.reportingRequested, "a free of the reporting order notifies")
        b.markReported(512, order: 9)
        #expect(b.isReported(512) && b.reportedPages == 512)
        #expect(b.unreportedBlocks(order: 9).isEmpty && b.unreportedBlocks(order: 10) == [1024])
        expectConsistent(b, "one reported block")
        // Freeing its buddy merges the two into a new, unreported order-10 block.
        b.free(0, order: 9)
        #expect(b.reportedPages == 0 && !b.isReported(0) && !b.isReported(512))
        #expect(b.unreportedBlocks(order: 10).sorted() == [0, 1024])
        expectConsistent(b, "merged")
        // Reported blocks go to the tail: the unreported one is allocated first.
        b.markReported(0, order: 10)
        #expect(b.allocate(order: 0) == 1024)
        #expect(b.reportedPages == 1024)
        // Then allocation takes the reported block; its split halves come back unreported.
        #expect(b.allocate(order: 10) == 0)
        #expect(b.reportedPages == 0)
        expectConsistent(b, "allocated")
    }

    @Test func smallFreesDoNotNotifyAndTheChecksCatchAMisplacedFlag() {
        let t = FrameTable(count: 2048)
        var b = BuddyAllocator(frames: t, managed: 0..<2048)
        b.reportingOrder = 9
        let p = b.allocate(order: 0)!
        let q = b.allocate(order: 0)!
        b.free(q, order: 0)
        #expect(!b.reportingRequested, "an order-0 block whose buddy is in use stays below the reporting order")
        b.free(p, order: 0)
        #expect(b.reportingRequested, "the merge reached order 10")
        // A reported flag on a block below the reporting order breaks the invariants.
        b.reportingOrder = 10
        let r = b.allocate(order: 0)!
        let upper = Int(r) + 1
        t.flags[upper] |= FrameFlag.reported
        #expect(b.checkInvariants().contains { $0.contains("below the reporting order") })
    }

    /// A guest without a host (unit-test mode) with free page reporting of `capacity` blocks per request.
    func reportingKernel(capacity: Int) -> GuestKernel {
        let k = makeTestKernel(memory: .mib(64))
        _ = k.boot()
        k.plugBalloonDevice(
            BalloonDevice(
                pagesPerPoll: 1, deflateOnOOM: false,
                freePageReporting: FreePageReporting(order: 9, delayNs: 2_000_000_000, capacity: capacity)))
        return k
    }

    @Test func passesHonourOrderDelayCapacityAndNeverReportABlockTwice() {
        let k = reportingKernel(capacity: 4)
        // Registration requests a first pass over the memory free at boot (initial flush).
        #expect(k.takePageReportingRequest(now: 0) == 2_000_000_000)
        var flushPasses = 0
        repeat { k.runPageReporting(); flushPasses += 1 } while k.takePageReportingRequest(now: 0) != nil && flushPasses < 100
        #expect(flushPasses > 1, "a budget of one request per order leaves work for another pass")
        #expect(k.buddy.reportedPages > 0 && k.buddy.reportedPages == k.vmstat.free_pages_reported)
        #expect(k.takePageReportingRequest(now: 0) == nil, "nothing was freed since the flush")
        let pid = k.spawn(name: "app")
        let v = k.mmap(pid, pages: 6000).value!
        for i in 0..<6000 { _ = k.access(pid, v + VPN(i), write: true) }
        k.exit(pid)
        #expect(k.takePageReportingRequest(now: 5) == 2_000_000_005, "the pass runs PAGE_REPORTING_DELAY after the free")
        #expect(k.takePageReportingRequest(now: 6) == nil, "one pass is pending at a time")
        let eligible = (9...BuddyAllocator.maxOrder).reduce(0) { $0 + (k.buddy.freeBlocks(order: $1) << $1) }
        #expect(eligible > 0)
        // Blocks still reported from the flush are not reported again.
        let stillReported = k.buddy.reportedPages, reportedSoFar = k.vmstat.free_pages_reported
        var passes = 0, requestsBefore = 0
        while passes < 100 {
            let got = k.runPageReporting()
            passes += 1
            let requests = k.vmstat.free_page_reports - requestsBefore
            requestsBefore = k.vmstat.free_page_reports
            // At most capacity blocks of at most 4 MiB per request.
            #expect(got <= requests * 4 * 1024)
            #expect(k.buddy.checkInvariants().isEmpty)
            if k.takePageReportingRequest(now: Int64(passes)) == nil { break }
        }
        #expect(k.buddy.reportedPages == eligible)
        #expect(k.vmstat.free_pages_reported - reportedSoFar == eligible - stillReported)
        for order in 9...BuddyAllocator.maxOrder { #expect(k.buddy.unreportedBlocks(order: order).isEmpty, "order \(order)") }
        for order in 0..<9 {
            #expect(
                k.buddy.unreportedBlocks(order: order).count == k.buddy.freeBlocks(order: order),
                "order \(order) is below the reporting order: never reported")
        }
        // Every reported frame reads zero (the host discarded it).
        for order in 9...BuddyAllocator.maxOrder {
            var p = k.buddy.freeLists[order].head
            while p != nilFrame {
                for i in Int(p)..<(Int(p) + (1 << order)) { #expect(k.frames.content[i] == .zero) }
                p = k.frames.next[Int(p)]
            }
        }
        // Nothing new was freed: a further pass reports nothing again.
        #expect(k.runPageReporting() == 0)
        #expect(k.vmstat.free_pages_reported - reportedSoFar == eligible - stillReported)
        expectConsistent(k, "after reporting")
    }

    @Test func noPassBelowTheLowWatermarkPlusOneRequest() {
        let k = reportingKernel(capacity: 32)
        // 32 blocks of order 9 are 64 MiB: more than this guest ever has free.
        let pid = k.spawn(name: "app")
        let v = k.mmap(pid, pages: 2000).value!
        for i in 0..<2000 { _ = k.access(pid, v + VPN(i), write: true) }
        k.exit(pid)
        #expect(k.takePageReportingRequest(now: 0) != nil)
        #expect(k.runPageReporting() == 0 && k.vmstat.free_page_reports == 0)
    }
}
