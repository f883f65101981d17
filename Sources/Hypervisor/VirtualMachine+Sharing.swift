import GuestKernel
import PageContents

/// The VM's side of page sharing: the scanner (`PageSharing`, host-wide) reads which pages are
/// candidates and what they hold, and calls these methods to record checksums and to map
/// pages to shared frames; copy-on-write breaks and balloon drops call `dropSharedMapping`.
extension VirtualMachine {
    /// Whether page `i` may be merged now: a private small page (not inside an intact large page).
    func isMergeable(_ i: Int) -> Bool { p2m.isPrivate(i) && largeRegion[i >> 9] == 0 }

    /// Records page `i`'s checksum at this scan (KSM's `oldchecksum`); returns whether it
    /// differs from the one of its previous scan (the page is volatile).
    @discardableResult
    func recordChecksum(_ i: Int, _ c: UInt32) -> Bool {
        guard checksum[i] != c else { return false }
        checksum[i] = c
        return true
    }

    /// Maps private page `i` to the existing shared frame `node` and releases its own machine
    /// frame (a merge: KSM's stable-tree hit, or the zero frame).
    func mergeIntoSharedFrame(_ i: Int, node: UInt32) {
        guard case .machine(let frame) = p2m[i] else { preconditionFailure("pfn \(i) of \(name) is not private") }
        releaseFrame(frame)
        privatePages -= 1
        p2m[i] = .shared(node: node)
        sharedPages += 1
        stats.merges += 1
        host.sharedFrames.addMapping(node)
        if node == SharedFrames.zeroNode { zeroSharedPages += 1 }
        guest.setEPT(PFN(i), 1)
        updateRemote(i)
    }

    /// Turns private page `i` into a new shared frame (its machine frame becomes the shared
    /// one, KSM's stable node made from an unstable-tree match); returns the node.
    func promoteToSharedFrame(_ i: Int, hash: UInt64) -> UInt32 {
        guard case .machine(let frame) = p2m[i] else { preconditionFailure("pfn \(i) of \(name) is not private") }
        let node = host.sharedFrames.create(frame: frame, content: guest.content(of: PFN(i)), hash: hash, salt: salt)
        p2m[i] = .shared(node: node)
        privatePages -= 1
        sharedPages += 1
        stats.merges += 1
        guest.setEPT(PFN(i), 1)
        return node
    }

    /// One page of this VM stops mapping shared frame `node` (copy-on-write break, balloon).
    func dropSharedMapping(_ node: UInt32) {
        if inRound { round!.droppedNodes.append(node) } else { host.sharedFrames.dropMapping(node) }
        sharedPages -= 1
        if node == SharedFrames.zeroNode { zeroSharedPages -= 1 }
    }
}

extension VirtualMachine {
    /// Gives every page of this VM that maps a shared frame (the host zero frame included) a
    /// private copy again: KSM's unmerge on `run` 2 (`unmerge_ksm_pages`, `break_ksm`). Each
    /// copy takes a machine frame, waiting for reclaim as a fault would; stops at the first
    /// page no frame can be found for. The EPT keeps the page read-only: the next guest write
    /// takes a cheap write fault, the contents are the guest's and stay as they were.
    func unmergeSharedPages() -> (unmerged: Int, outOfFrames: Bool) {
        var unmerged = 0
        var i = 0
        while sharedPages > 0 && i < configuredPages {
            defer { i += 1 }
            guard case .shared(let node) = p2m[i] else { continue }
            guard let (m, _) = obtainFrame(pfn: i) else { return (unmerged, true) }
            p2m[i] = .machine(m)
            privatePages += 1
            dropSharedMapping(node)
            updateRemote(i)
            unmerged += 1
        }
        return (unmerged, false)
    }
}
