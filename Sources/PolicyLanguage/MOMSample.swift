/// What a policy evaluation reads: samples of Host and of each guest, their properties, and
/// the variables the management engine injects. The simulation fills these at each MOM
/// collection interval and hands them to `PolicyProgram.evaluate` at each policy interval.

/// One collection of Host's fields (MOM's `HostMonitor.collect`), in MOM's units.
public struct MOMHostSample: Sendable, Equatable {
    /// Values in `MOMHostField` order; `.none` where there is no data.
    public var values: [PolicyValue]

    /// A sample with every field nil except those overcommit reports as fixed values.
    public init() { values = MOMEntityKind.host.fields.map(\.initialValue) }

    public subscript(_ field: MOMHostField) -> PolicyValue {
        get { values[field.index] }
        set { values[field.index] = newValue }
    }
}

/// One collection of a guest's fields (MOM's `GuestMonitor.collect`), in MOM's units.
public struct MOMGuestSample: Sendable, Equatable {
    /// Values in `MOMGuestField` order; `.none` where there is no data.
    public var values: [PolicyValue]

    /// A sample with every field nil except those overcommit reports as fixed values.
    public init() { values = MOMEntityKind.guest.fields.map(\.initialValue) }

    public subscript(_ field: MOMGuestField) -> PolicyValue {
        get { values[field.index] }
        set { values[field.index] = newValue }
    }
}

extension MOMFieldInfo {
    /// A field's value before anything is measured: its fixed value, else nil.
    var initialValue: PolicyValue {
        if case .fixed(let v) = source { return v }
        return .none
    }
}

/// MOM's sample history (`sample-history-length`, default 10): the most recent samples,
/// oldest first, the oldest dropped when a new one arrives at capacity.
public struct MOMSampleHistory<Sample: Sendable>: Sendable {
    public private(set) var samples: [Sample] = []
    public let capacity: Int

    public init(capacity: Int = MOMSampleHistory.defaultCapacity) {
        precondition(capacity >= 1, "a sample history holds at least one sample")
        self.capacity = capacity
        samples.reserveCapacity(capacity)
    }

    /// MOM's default `sample-history-length`.
    public static var defaultCapacity: Int { 10 }

    public mutating func append(_ s: Sample) {
        if samples.count == capacity { samples.removeFirst() }
        samples.append(s)
    }

    public var latest: Sample? { samples.last }
}

/// Host as a policy sees it: its properties and its sample history.
public struct MOMHostData: Sendable, Equatable {
    /// `host-monitor-interval` in seconds (the `interval` property); nil = not given.
    public var interval: Int?
    /// Samples, oldest first. With none, Host has no fields yet (MOM does not run the policy
    /// before the first collection; `policy eval` without host data shows what that means).
    public var samples: [MOMHostSample]

    public init(interval: Int? = nil, samples: [MOMHostSample] = []) {
        self.interval = interval; self.samples = samples
    }
}

/// One guest as a policy sees it.
public struct MOMGuestData: Sendable, Equatable {
    /// The `name` property (the VM's name).
    public var name: String
    /// The `uuid` property; nil = not given.
    public var uuid: String?
    /// The `pid` property; nil = not given.
    public var pid: Int?
    /// Samples, oldest first (at least one: MOM lists a guest only once it has data).
    public var samples: [MOMGuestSample]

    public init(name: String, uuid: String? = nil, pid: Int? = nil, samples: [MOMGuestSample] = []) {
        self.name = name; self.uuid = uuid; self.pid = pid; self.samples = samples
    }
}

/// A variable set before the policy runs, as the oVirt engine injects `balloonEnabled`.
public struct PolicyVariable: Sendable, Equatable {
    public var name: String
    public var value: PolicyValue
    public init(_ name: String, _ value: PolicyValue) { self.name = name; self.value = value }
}

/// Everything one evaluation reads.
public struct PolicyInput: Sendable, Equatable {
    public var host: MOMHostData
    /// The guests in `Guests` order.
    public var guests: [MOMGuestData]
    /// Injected variables, defined in the global scope before the first expression: a
    /// `defvar` of the same name in the policy then keeps the injected value, as vdsm's
    /// `(set name value)` after `00-defines.policy` does.
    public var variables: [PolicyVariable]

    public init(host: MOMHostData = MOMHostData(), guests: [MOMGuestData] = [], variables: [PolicyVariable] = []) {
        self.host = host; self.guests = guests; self.variables = variables
    }
}
