import GuestKernel
import OvercommitSupport

/// A workload's coming references, drawn ahead on a copy of its random stream so that the
/// guest kernel can be told to prefetch them (`GuestKernel.prefetchEntry`, `prefetchFrame`).
///
/// Only the simulator's speed depends on it. The workload still draws every reference from
/// its own stream, as before; the lookahead replays the same draws on a copy, `distance`
/// references early, and remembers the stream's state before each. When the workload is
/// about to draw, `advance` checks that its stream is in the state the lookahead expected
/// (anything else that drew from the stream, or a different path through the workload,
/// shows as a mismatch) and otherwise starts again from the stream's state. A wrong guess
/// costs a wasted prefetch, never a different result.
///
/// The pages are prefetched in two stages, as software pipelining does: the page-table
/// entry `distance` references ahead, the frame's state `distance / 2` ahead, when the
/// entry is in the cache.
final class ReferenceLookahead {
    /// How many references ahead the page-table entries are prefetched (a power of two).
    static let distance = 16
    static let mask = 2 * distance - 1

    /// A coming reference to a page: whose, which, and whether it writes.
    struct Reference {
        var pid: PID
        var vpn: VPN
        var write: Bool
    }

    /// One drawn reference: the stream's state before its draw, and its page (none for a
    /// reference that names no page, e.g. a file read).
    struct Entry {
        var before: Xoshiro256
        var reference: Reference
        var hasPage: Bool
    }

    /// Ring of drawn references; `head` is the one about to be issued.
    private let ring: UnsafeMutablePointer<Entry>
    private var head = 0
    private var count = 0
    /// The copy of the stream, after the last drawn reference.
    private var peek: Xoshiro256
    /// Times the stream was not where the lookahead expected (a test checks it stays rare).
    private(set) var restarts = 0

    init() {
        ring = .allocate(capacity: ReferenceLookahead.mask + 1)
        peek = Xoshiro256(seed: 0)
    }

    deinit { ring.deallocate() }

    /// Called right before the workload draws its next reference from `rng`. `draw` must
    /// consume the stream exactly as the workload's own draw would for the reference
    /// `offset` references after this one, and returns the page it names.
    @inline(__always)
    func advance(_ rng: Xoshiro256, kernel: GuestKernel, draw: (inout Xoshiro256, _ offset: Int) -> Reference?) {
        let m = ReferenceLookahead.mask
        if count == 0 || ring[head].before != rng {
            if count != 0 { restarts &+= 1 }
            head = 0
            count = 0
            peek = rng
        }
        while count <= ReferenceLookahead.distance {
            let before = peek
            let r = draw(&peek, count)
            ring[(head + count) & m] = Entry(before: before, reference: r ?? Reference(pid: 0, vpn: 0, write: false), hasPage: r != nil)
            if let r { kernel.prefetchEntry(r.pid, r.vpn) }
            count += 1
        }
        // The reference about to be drawn is the head; the frame state of the one half-way
        // to the far end is fetched now that its entry has had time to arrive.
        let mid = ring[(head + ReferenceLookahead.distance / 2) & m]
        if mid.hasPage { kernel.prefetchFrame(mid.reference.pid, mid.reference.vpn, write: mid.reference.write) }
        head = (head + 1) & m
        count -= 1
    }
}
