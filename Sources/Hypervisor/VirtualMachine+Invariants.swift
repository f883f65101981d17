import GuestKernel

extension VirtualMachine {
    /// Problems with this VM's host state: every counter agrees with the p2m map, each
    /// compressed page owns its cache entry, the swap file's slots are conserved, and the EPT
    /// never grants more than the backing allows (a shared page is never writable; a page out
    /// of memory or unbacked is never mapped, except a ballooned one).
    func checkInvariants() -> [String] {
        var priv = 0, shared = 0, zero = 0, comp = 0, swapped = 0, over = 0, large = 0, notCandidates = 0
        var backedPerRegion = Array(repeating: 0, count: regionBacked.count)
        for i in 0..<p2m.count {
            let entry = p2m[i]
            if entry == .unbacked { continue }
            backedPerRegion[i >> 9] += 1
            switch entry {
            case .unbacked: break
            case .overdraft: over += 1
            case .machine:
                priv += 1
                if !p2m.victims.contains(i) { notCandidates += 1 }
            case .shared(let node):
                shared += 1
                if node == SharedFrames.zeroNode { zero += 1 }
            case .compressed(let cacheEntry):
                comp += 1
                let e = Int(cacheEntry)
                if e >= cache.owner.count || cache.owner[e] != UInt32(i) { return ["vm \(name): pfn \(i) names cache entry \(e) that it does not own"] }
            case .swapped:
                swapped += 1
            }
        }
        for r in largeRegion where r != 0 { large += 1 }
        var p: [String] = []
        if notCandidates > 0 { p.append("vm \(name): \(notCandidates) private pages are not host-paging candidates") }
        if priv != privatePages { p.append("vm \(name): p2m has \(priv) private frames, counter \(privatePages)") }
        if shared != sharedPages { p.append("vm \(name): p2m has \(shared) shared pages, counter \(sharedPages)") }
        if zero != zeroSharedPages { p.append("vm \(name): p2m has \(zero) zero-frame pages, counter \(zeroSharedPages)") }
        if comp != cache.count { p.append("vm \(name): p2m has \(comp) compressed pages, cache holds \(cache.count)") }
        if swapped != swappedPages { p.append("vm \(name): p2m has \(swapped) swapped pages, counter \(swappedPages)") }
        if swapped + swapFreeSlots.count != swapSlots.count {
            p.append("vm \(name): swap slots \(swapSlots.count) != used \(swapped) + free \(swapFreeSlots.count)")
        }
        if over != overdraftPages { p.append("vm \(name): p2m has \(over) overdraft pages, counter \(overdraftPages)") }
        if large != largePages { p.append("vm \(name): \(large) large regions, counter \(largePages)") }
        if backedPerRegion.map({ UInt16($0) }) != regionBacked { p.append("vm \(name): per-region backed counts disagree with the p2m") }
        if cache.frames != CompressionCache.framesFor(bytes: cache.bytes) { p.append("vm \(name): cache frames \(cache.frames) for \(cache.bytes) bytes") }
        if cache.bytes > cache.limitBytes { p.append("vm \(name): compression cache \(cache.bytes) B over its limit \(cache.limitBytes) B") }
        // Permissions: a shared page is never writable, an unbacked one never mapped (the first
        // violation is reported).
        let ept = guest.ept
        for i in 0..<p2m.count {
            let e = ept[i] & 3
            var problem: String?
            switch p2m[i] {
            case .unbacked:
                if e != 0 && !guest.isBallooned(PFN(i)) { problem = "vm \(name): unbacked pfn \(i) has EPT bits \(e)" }
            case .overdraft, .machine:
                break
            case .shared:
                if e & 2 != 0 { problem = "vm \(name): shared pfn \(i) is writable in the EPT" }
            case .compressed, .swapped:
                if e != 0 { problem = "vm \(name): pfn \(i) is out of memory but mapped in the EPT" }
            }
            if let problem { p.append(problem); break }
        }
        return p
    }

    /// Adds, per shared-frame node, the pages of this VM mapping it to `counts`.
    func countSharedMappings(into counts: inout [Int]) {
        for i in 0..<p2m.count {
            if case .shared(let node) = p2m[i] { counts[Int(node)] += 1 }
        }
    }
}
