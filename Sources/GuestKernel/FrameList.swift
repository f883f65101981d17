import OvercommitSupport
import PageContents

/// An intrusive doubly linked list threaded through a `FrameTable`'s `next`/`prev` arrays.
///
/// Used for the buddy free lists and the LRU lists. The head is the most recently added
/// end (Linux adds to the head of the LRU and scans from the tail).
public struct FrameList: Sendable {
    public private(set) var head: PFN = nilFrame
    public private(set) var tail: PFN = nilFrame
    public private(set) var count: Int = 0
    public init() {}

    /// Adds at the head.
    @inline(__always)
    public mutating func pushHead(_ pfn: PFN, in t: FrameTable) {
        let i = Int(pfn)
        t.prev[i] = nilFrame
        t.next[i] = head
        if head != nilFrame { t.prev[Int(head)] = pfn } else { tail = pfn }
        head = pfn
        count += 1
    }

    /// Adds at the tail.
    @inline(__always)
    public mutating func pushTail(_ pfn: PFN, in t: FrameTable) {
        let i = Int(pfn)
        t.next[i] = nilFrame
        t.prev[i] = tail
        if tail != nilFrame { t.next[Int(tail)] = pfn } else { head = pfn }
        tail = pfn
        count += 1
    }

    /// Unlinks a frame that is on this list.
    @inline(__always)
    public mutating func remove(_ pfn: PFN, in t: FrameTable) {
        let i = Int(pfn)
        let n = t.next[i], p = t.prev[i]
        if p != nilFrame { t.next[Int(p)] = n } else { head = n }
        if n != nilFrame { t.prev[Int(n)] = p } else { tail = p }
        t.next[i] = nilFrame; t.prev[i] = nilFrame
        count -= 1
    }

    /// Removes and returns the tail (the coldest end), or nil when empty.
    @inline(__always)
    public mutating func popTail(in t: FrameTable) -> PFN? {
        guard tail != nilFrame else { return nil }
        let p = tail
        remove(p, in: t)
        return p
    }

    /// Removes and returns the head, or nil when empty.
    @inline(__always)
    public mutating func popHead(in t: FrameTable) -> PFN? {
        guard head != nilFrame else { return nil }
        let p = head
        remove(p, in: t)
        return p
    }

    /// The frames from head to tail (for checks and tests; O(n)).
    public func frames(in t: FrameTable) -> [PFN] {
        var out: [PFN] = []
        out.reserveCapacity(count)
        var p = head
        while p != nilFrame { out.append(p); p = t.next[Int(p)] }
        return out
    }
}
