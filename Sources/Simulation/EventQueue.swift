import HeapModule

/// A deterministic discrete-event queue keyed by (time, priority, sequence).
///
/// swift-collections' `Heap` does not order equal keys stably, so every entry carries a
/// sequence number: two events at the same time and priority run in the order they were
/// scheduled.
public struct EventQueue<Payload> {
    struct Entry: Comparable {
        var time: Int64
        var priority: Int
        var seq: UInt64
        var payload: Payload
        static func < (a: Entry, b: Entry) -> Bool {
            (a.time, a.priority, a.seq) < (b.time, b.priority, b.seq)
        }
        static func == (a: Entry, b: Entry) -> Bool { a.time == b.time && a.priority == b.priority && a.seq == b.seq }
    }
    var heap = Heap<Entry>()
    var seq: UInt64 = 0

    public init() {}

    public var isEmpty: Bool { heap.isEmpty }
    public var count: Int { heap.count }

    /// Schedules `payload` at `time`; lower `priority` runs first among equal times.
    public mutating func schedule(at time: Int64, priority: Int, _ payload: Payload) {
        heap.insert(Entry(time: time, priority: priority, seq: seq, payload: payload))
        seq += 1
    }

    /// The next event (earliest time, then priority, then scheduling order).
    public mutating func pop() -> (time: Int64, payload: Payload)? {
        guard let e = heap.popMin() else { return nil }
        return (e.time, e.payload)
    }

    public var nextTime: Int64? { heap.min?.time }

    /// The next event without taking it.
    public var peek: (time: Int64, priority: Int, payload: Payload)? { heap.min.map { ($0.time, $0.priority, $0.payload) } }
}
