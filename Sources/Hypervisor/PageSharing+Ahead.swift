import GuestKernel
import PageContents

/// Hashes computed ahead of the scan for one VM: the pages in the order the scanner will
/// visit them, and their salted hashes (0 for a page skipped as not private).
struct AheadHashes {
    var pages: [UInt32] = []
    var hashes: [UInt64] = []
    var next = 0
}

/// Hashing ahead: at a scanner wake-up, the pages the scan is going to visit are hashed
/// first, in chunks of pages on the simulation's worker threads, and the scan itself (serial, VM
/// after VM, as ksmd and ESX's scanner run) takes those hashes instead of generating and
/// hashing 4 KiB per page. A page's hash depends only on its bytes and its VM's salt, and
/// nothing writes guest memory during a wake-up, so every result is the same with it or
/// without it (and for any number of threads); it moves the scanner's most expensive step
/// out of the serial part of a run. The plan is a prediction: a page the scan reaches that
/// was not planned is hashed as before.
extension PageSharing {
    /// The next `count` pages of `vm` in its cursor's order (within the current pass), without
    /// moving the cursor.
    func upcomingPages(_ vm: VirtualMachine, count: Int) -> [UInt32] {
        var c = cursors[vm.index]
        let n = vm.configuredPages
        var out: [UInt32] = []
        out.reserveCapacity(min(count, n))
        let passes = c.passes
        while out.count < count && c.passes == passes && n > 0 {
            out.append(UInt32(c.advance(pages: n, random: config.scan_order == .random)))
        }
        return out
    }

    /// Pages hashed by one job: KSM's wake-up usually covers a single VM, so a VM's planned
    /// pages are split into chunks that run on all threads.
    static let aheadChunk = 1024

    /// Hashes the planned pages (`plan`: VMs and how many pages of each the wake-up will
    /// visit) in chunks of `aheadChunk` pages run by `runJobs`, and keeps the hashes for the
    /// scan.
    func hashAhead(_ plan: [(vm: VirtualMachine, count: Int)], runJobs: (Int, @escaping (Int) -> Void) -> Void) {
        let vms = plan.filter { $0.count > 0 }
        guard !vms.isEmpty else { return }
        let pages = vms.map { upcomingPages($0.vm, count: $0.count) }
        // One buffer per VM, written by the jobs at disjoint indices, read after all have ended.
        let outs = pages.map { p -> UnsafeMutablePointer<UInt64> in
            let b = UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, p.count))
            b.initialize(repeating: 0, count: max(1, p.count))
            return b
        }
        defer { for (v, b) in outs.enumerated() { b.deinitialize(count: max(1, pages[v].count)); b.deallocate() } }
        // Jobs: (VM of the plan, first page of the chunk).
        var chunks: [(v: Int, from: Int)] = []
        for (v, p) in pages.enumerated() {
            for from in stride(from: 0, to: p.count, by: PageSharing.aheadChunk) { chunks.append((v, from)) }
        }
        let generator = self.generator
        let precompute = config.precompute_large_page_hashes
        // The memo is only read by the jobs (a content it answers is not generated), and in
        // check mode not trusted: every page is hashed and the memo's answer compared.
        let memo = hashMemo
        let verify = verifyMemo
        let useMemo = memoEnabled
        let sharing = useMemo && memo.shared != nil
        let wrong = UnsafeMutablePointer<Int>.allocate(capacity: max(1, chunks.count))
        wrong.initialize(repeating: -1, count: max(1, chunks.count))
        defer { wrong.deallocate() }
        // Pages whose hash was generated here (not known to either memo): they go to the
        // experiment's shared memo afterwards.
        let fresh = pages.map { p -> UnsafeMutablePointer<Bool> in
            let b = UnsafeMutablePointer<Bool>.allocate(capacity: max(1, p.count))
            b.initialize(repeating: false, count: max(1, p.count))
            return b
        }
        defer { for b in fresh { b.deallocate() } }
        runJobs(chunks.count) { k in
            let (v, from) = chunks[k]
            let vm = vms[v].vm
            let out = outs[v]
            for n in from..<min(from + PageSharing.aheadChunk, pages[v].count) {
                let i = Int(pages[v][n])
                guard vm.p2m.isPrivate(i), precompute || !vm.isInLargePage(i) else { continue }
                let content = vm.guest.content(of: PFN(i))
                let known = useMemo ? memo.lookup(content, salt: vm.salt) ?? memo.lookupShared(content, salt: vm.salt) : nil
                if let h = known, !verify {
                    out[n] = h
                    continue
                }
                out[n] = generator.withBytes(content) { PageHash.xxh3($0, salt: vm.salt) }
                if let h = known {
                    if h != out[n], wrong[k] < 0 { wrong[k] = n }
                } else {
                    fresh[v][n] = true
                }
            }
        }
        for k in chunks.indices where wrong[k] >= 0 {
            let (v, n) = (chunks[k].v, wrong[k])
            let vm = vms[v].vm
            let content = vm.guest.content(of: PFN(Int(pages[v][n])))
            memoProblems.append("sharing: vm \(vm.name) pfn \(pages[v][n]): the hash memo's answer for \(content) differs from its bytes' hash \(outs[v][n])")
        }
        for (v, j) in vms.enumerated() {
            while ahead.count <= j.vm.index { ahead.append(AheadHashes()) }
            ahead[j.vm.index] = AheadHashes(pages: pages[v], hashes: Array(UnsafeBufferPointer(start: outs[v], count: pages[v].count)), next: 0)
            var published: [(content: PageContent, salt: UInt64, hash: UInt64)] = []
            for n in 0..<pages[v].count where outs[v][n] != 0 {
                let content = j.vm.guest.content(of: PFN(Int(pages[v][n])))
                memo.store(content, salt: j.vm.salt, hash: outs[v][n])
                if sharing && fresh[v][n] { published.append((content, j.vm.salt, outs[v][n])) }
            }
            if sharing { memo.publish(published) }
        }
    }

    /// The hash computed ahead for page `i` of `vm`, when it is the next planned page and was
    /// hashed; planned pages the scan passed over are dropped.
    @inline(__always)
    func takeAheadHash(_ vm: VirtualMachine, _ i: Int) -> UInt64? {
        guard vm.index < ahead.count, ahead[vm.index].next < ahead[vm.index].pages.count else { return nil }
        let k = ahead[vm.index].next
        guard ahead[vm.index].pages[k] == UInt32(i) else {
            ahead[vm.index] = AheadHashes()
            return nil
        }
        ahead[vm.index].next = k + 1
        let h = ahead[vm.index].hashes[k]
        if h == 0 { return nil }
        aheadUsed += 1
        return h
    }

    /// Drops every hash computed ahead (the end of a wake-up).
    func dropAheadHashes() {
        for k in ahead.indices where !ahead[k].pages.isEmpty { ahead[k] = AheadHashes() }
    }
}
