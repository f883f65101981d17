import Testing
import OvercommitTestSupport
@testable import GuestKernel
import OvercommitSupport

/// Linux's formulas, checked against values worked out by hand from the kernel sources:
/// `oom_badness()` (mm/oom_kill.c), `proc_oom_score()` (fs/proc/base.c),
/// `__vm_enough_memory()` and `vm_commit_limit()` (mm/util.c), `init_admin_reserve()` and
/// `init_user_reserve()` (mm/mmap.c), `calculate_min_free_kbytes()` and
/// `__setup_per_zone_wmarks()` (mm/page_alloc.c).
@Suite struct LinuxFormulaTests {
    // makeTestKernel(memory: .mib(64), swap: .mib(32)): 16384 pages, 1024 kernel-reserved, so totalram_pages
    // = 15360 and total_swap_pages = 8192: totalpages = 23552, totalpages / 1000 = 23.

    @Test func oomBadnessDividesTotalpagesByAThousandFirst() {
        let t = 23552
        // 1000 rss + 200 swap entries + 3 page-table pages.
        #expect(GuestKernel.oomBadness(rssPages: 1000, swapEntries: 200, pageTablePages: 3, oomScoreAdj: 0, totalPages: t) == 1203)
        // adj 500: 1203 + 500 * 23 = 12703 (multiplying first would give 1203 + 11776 = 12979).
        #expect(GuestKernel.oomBadness(rssPages: 1000, swapEntries: 200, pageTablePages: 3, oomScoreAdj: 500, totalPages: t) == 12703)
        // adj -999 on a tiny process: 10 - 999 * 23 = -22967 (negative badness is kept since 5.9).
        #expect(GuestKernel.oomBadness(rssPages: 10, swapEntries: 0, pageTablePages: 0, oomScoreAdj: -999, totalPages: t) == -22967)
        // OOM_SCORE_ADJ_MIN: LONG_MIN, never chosen.
        #expect(GuestKernel.oomBadness(rssPages: 5000, swapEntries: 0, pageTablePages: 9, oomScoreAdj: -1000, totalPages: t) == nil)
        // totalpages under 1000: the adjustment vanishes, as in the kernel.
        #expect(GuestKernel.oomBadness(rssPages: 7, swapEntries: 0, pageTablePages: 1, oomScoreAdj: 1000, totalPages: 999) == 8)
    }

    @Test func procOOMScoreScalesByTwoThirds() {
        let t = 23552
        // (1000 + 1203000 / 23552) * 2 / 3 = (1000 + 51) * 2 / 3 = 700.
        #expect(GuestKernel.procOOMScore(badness: 1203, totalPages: t) == 700)
        // (1000 + 12703000 / 23552) * 2 / 3 = (1000 + 539) * 2 / 3 = 1026.
        #expect(GuestKernel.procOOMScore(badness: 12703, totalPages: t) == 1026)
        // C truncates toward zero: -22967000 / 23552 = -975; (1000 - 975) * 2 / 3 = 16.
        #expect(GuestKernel.procOOMScore(badness: -22967, totalPages: t) == 16)
        // Everything resident and adj 1000: 23552 + 23000 = 46552; (1000 + 1976) * 2 / 3 = 1984.
        #expect(GuestKernel.procOOMScore(badness: 46552, totalPages: t) == 1984)
        #expect(GuestKernel.procOOMScore(badness: nil, totalPages: t) == 0)
        // A process using nothing with adj 0 reads 666, as on Linux.
        #expect(GuestKernel.procOOMScore(badness: 0, totalPages: t) == 666)
    }

    @Test func oomScoreOfALiveProcess() {
        let k = makeTestKernel(memory: .mib(64), swap: .mib(32))
        #expect(k.managedPages == 15360 && k.swap.slotCount == 8192)
        let pid = k.spawn(name: "p")
        let base = k.mmap(pid, pages: 1000).value!
        for i in 0..<1000 { _ = k.access(pid, base + VPN(i), write: true) }
        let p = k.process(pid)!
        // 1000 pages in two page-table leaves (the mapping starts 2 MiB-aligned).
        #expect(p.rssAnon == 1000 && p.pageTablePages == 2)
        // badness 1002; (1000 + 1002000 / 23552) * 2 / 3 = (1000 + 42) * 2 / 3 = 694.
        #expect(k.badness(p) == 1002)
        #expect(k.oomScore(p) == 694)
        k.setOOMScoreAdj(pid, 500)
        // 1002 + 500 * 23 = 12502; (1000 + 530) * 2 / 3 = 1020.
        #expect(k.badness(p) == 12502)
        #expect(k.oomScore(p) == 1020)
        #expect(k.processTable().first { $0.pid == pid }?.oomScore == 1020)
    }

    @Test func selectBadProcessPrefersTheLaterTaskOnATie() {
        let k = makeTestKernel(memory: .mib(64), swap: .mib(0))
        let a = k.spawn(name: "first"), b = k.spawn(name: "second")
        for pid in [a, b] {
            let base = k.mmap(pid, pages: 300).value!
            for i in 0..<300 { _ = k.access(pid, base + VPN(i), write: true) }
        }
        #expect(k.badness(k.process(a)!) == k.badness(k.process(b)!))
        // oom_evaluate_task() skips only points < chosen_points: the later task wins a tie.
        #expect(k.oomKill(trigger: "test"))
        #expect(k.isAlive(a) && !k.isAlive(b))
    }

    @Test func strictOvercommitKeepsTheAdminAndUserReserves() {
        let k = makeTestKernel(memory: .mib(64), swap: .mib(32)) { $0.overcommit_memory = 2 }
        // vm_commit_limit = 15360 * 50 / 100 + 8192 = 15872 pages.
        #expect(k.commitLimit == 15872)
        // Free memory at boot 61440 kB: admin reserve min(1920, 8192) kB, user reserve
        // min(1920, 131072) kB, both 480 pages.
        #expect(k.adminReserveKbytes == 1920 && k.userReserveKbytes == 1920)
        // A process with total_vm 0: allowed = 15872 - 480 - min(0 / 32, 480) = 15392, and
        // Committed_AS (the request included) must stay strictly below it.
        let a = k.spawn(name: "a")
        #expect(k.mmap(a, pages: 15392).value == nil)
        #expect(k.mmap(a, pages: 15391).value != nil)
        k.exit(a)
        // total_vm 3200 after a first mapping: allowed = 15872 - 480 - 100 = 15292.
        let b = k.spawn(name: "b")
        #expect(k.mmap(b, pages: 3200).value != nil)
        #expect(k.strictCommitAllowance(totalVM: 3200) == 15292)
        #expect(k.mmap(b, pages: 12092).value == nil)
        #expect(k.mmap(b, pages: 12091).value != nil)
        #expect(k.committedAS == 15291)
        // The user reserve is capped by vm.user_reserve_kbytes: total_vm 15291 / 32 = 477 < 480.
        #expect(k.strictCommitAllowance(totalVM: 15291) == 15872 - 480 - 477)
        #expect(k.strictCommitAllowance(totalVM: 1 << 20) == 15872 - 480 - 480)
    }

    @Test func strictOvercommitWithoutReservesStillNeedsStrictlyLess() {
        let k = makeTestKernel(memory: .mib(64), swap: .mib(32)) {
            $0.overcommit_memory = 2; $0.admin_reserve_kbytes = 0; $0.user_reserve_kbytes = 0
        }
        let a = k.spawn(name: "a")
        // Committed_AS equal to CommitLimit is refused (`<`, not `<=`).
        #expect(k.mmap(a, pages: 15872).value == nil)
        #expect(k.mmap(a, pages: 15871).value != nil)
        // Explicit reserves replace the derived ones.
        let r = makeTestKernel(memory: .mib(64), swap: .mib(32)) {
            $0.admin_reserve_kbytes = 4096; $0.user_reserve_kbytes = 100
        }
        #expect(r.adminReserveKbytes == 4096 && r.userReserveKbytes == 100)
        #expect(r.strictCommitAllowance(totalVM: 32_000) == 15872 - 1024 - 25)
    }

    @Test func largeGuestsGetTheReserveCaps() {
        // 8 GiB managed: free 8388608 kB / 32 = 262144 kB, capped at 8 MiB and 128 MiB.
        var c = GuestKernelConfig()
        c.kernel_reserved = .mib(16)
        let k = GuestKernel(
            name: "big", memoryPages: (8 << 18) + 4096, config: c,
            swap: SwapDeviceConfig(size: .mib(0), device: .ssd), costs: CostModel(), seed: 1)
        #expect(k.managedPages == 8 << 18)
        #expect(k.adminReserveKbytes == 8192 && k.userReserveKbytes == 131072)
    }

    @Test func minFreeKbytesAndWatermarksAsCalculateMinFreeKbytes() {
        let c = GuestKernelConfig()
        // 15360 managed pages: int_sqrt(61440 * 16) = int_sqrt(983040) = 991 kB; min = 247
        // pages; gap = max(247 / 4, 15360 * 10 / 10000) = 61; low 308, high 369.
        let w = Watermarks(managedPages: 15360, config: c)
        #expect(w.minFreeKbytes == 991 && w.min == 247 && w.low == 308 && w.high == 369)
        #expect(makeTestKernel(memory: .mib(64), swap: .mib(32)).watermarks == w)
        // 16 MiB: int_sqrt(16384 * 16) = 512 kB exactly.
        #expect(Watermarks(managedPages: 4096, config: c).minFreeKbytes == 512)
        // Below the floor: int_sqrt(400 * 16) = 80, clamped up to 128 kB.
        #expect(Watermarks(managedPages: 100, config: c).minFreeKbytes == 128)
        // 512 GiB: int_sqrt(2^29 * 16) = int_sqrt(2^33) = 92681 kB (the old 64 MiB clamp gave 65536).
        let big = Watermarks(managedPages: 1 << 27, config: c)
        #expect(big.minFreeKbytes == 92681)
        // gap = max(23170 / 4, 2^27 * 10 / 10000 = 134217) = 134217.
        #expect(big.min == 23170 && big.low == 23170 + 134217 && big.high == 23170 + 2 * 134217)
        // 1 TiB: int_sqrt(2^30 * 16) = 2^17 = 131072 kB; 8 TiB: 370727, clamped to 262144 kB.
        #expect(Watermarks(managedPages: 1 << 28, config: c).minFreeKbytes == 131072)
        #expect(Watermarks(managedPages: 1 << 31, config: c).minFreeKbytes == 262144)
        // A set value is used as is.
        var set = c
        set.min_free_kbytes = 4000
        #expect(Watermarks(managedPages: 15360, config: set).min == 1000)
        #expect(Watermarks.intSqrt(17_179_869_184) == 131072 && Watermarks.intSqrt(17_179_869_183) == 131071)
    }
}
