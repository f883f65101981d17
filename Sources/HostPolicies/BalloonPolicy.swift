import OvercommitSupport

/// What a balloon policy may read about one VM, all in 4 KiB pages.
public struct BalloonVMView: Sendable {
    public var name: String
    public var configuredPages: Int
    /// Machine frames backing the VM now.
    public var consumedPages: Int
    /// Current balloon size.
    public var balloonPages: Int
    /// Current balloon target.
    public var targetPages: Int
    /// Largest balloon (ESX Mem.CtlMaxPercent, 65 % of configured by default).
    public var maxBalloonPages: Int
    public var hasDriver: Bool
    /// Guest MemFree (virtio-balloon stats / VMware Tools).
    public var guestFreePages: Int
    /// Guest MemAvailable.
    public var guestAvailablePages: Int
    public var reservationPages: Int
    /// `Int.max` when unlimited.
    public var limitPages: Int
    /// ESX shares (from `SharesSetting`).
    public var shares: Double
    /// Estimated active fraction, 0...1.
    public var activeFraction: Double
    /// Pages the share-based allocation wants taken from this VM now (ESX scheduler).
    public var reclaimTargetPages: Int
    public var settings: BalloonVMSettings
    /// Memory the guest sees: configured memory, less what memory hotplug has not onlined yet
    /// (a Hyper-V VM above its startup memory).
    public var onlinePages: Int
    /// Memory demand the guest's Dynamic Memory driver reports (hv_balloon: Committed_AS
    /// plus its balloon floor).
    public var memoryDemandPages: Int

    public init(
        name: String, configuredPages: Int, consumedPages: Int = 0, balloonPages: Int = 0, targetPages: Int = 0,
        maxBalloonPages: Int? = nil, hasDriver: Bool = true, guestFreePages: Int = 0, guestAvailablePages: Int = 0,
        reservationPages: Int = 0, limitPages: Int = .max, shares: Double = 0, activeFraction: Double = 1,
        reclaimTargetPages: Int = 0, settings: BalloonVMSettings = BalloonVMSettings(), onlinePages: Int? = nil,
        memoryDemandPages: Int = 0
    ) {
        self.name = name; self.configuredPages = configuredPages; self.consumedPages = consumedPages
        self.balloonPages = balloonPages; self.targetPages = targetPages
        self.maxBalloonPages = maxBalloonPages ?? settings.maxBalloonPages(configuredPages: configuredPages)
        self.hasDriver = hasDriver; self.guestFreePages = guestFreePages; self.guestAvailablePages = guestAvailablePages
        self.reservationPages = reservationPages; self.limitPages = limitPages; self.shares = shares
        self.activeFraction = activeFraction; self.reclaimTargetPages = reclaimTargetPages; self.settings = settings
        self.onlinePages = onlinePages ?? configuredPages; self.memoryDemandPages = memoryDemandPages
    }

    /// Guest memory the balloon leaves the VM (what oVirt, Proxmox and Xen call the VM's
    /// current memory).
    public var guestMemoryPages: Int { onlinePages - balloonPages }
}

/// What a balloon policy may read about the host.
public struct BalloonHostView: Sendable {
    public var timeNs: Int64
    /// Host RAM minus hypervisor memory.
    public var usablePages: Int
    public var freePages: Int
    public var minFreePages: Int
    public var state: HostMemoryState
    /// Whether the state's techniques include `.balloon`.
    public var ballooningEnabled: Bool
    public var vms: [BalloonVMView]

    public init(
        timeNs: Int64 = 0, usablePages: Int, freePages: Int, minFreePages: Int = 0,
        state: HostMemoryState = .high, ballooningEnabled: Bool = false, vms: [BalloonVMView]
    ) {
        self.timeNs = timeNs; self.usablePages = usablePages; self.freePages = freePages
        self.minFreePages = minFreePages; self.state = state; self.ballooningEnabled = ballooningEnabled; self.vms = vms
    }
}

/// A host balloon policy: reads the host and its VMs, sets each VM's balloon target.
public protocol BalloonPolicy: Sendable {
    /// The policy's parameter table (its `kind`, `interval` and own keys).
    associatedtype Parameters: BalloonPolicyParameters
    var parameters: Parameters { get }
    /// New balloon target per VM (pages), same order as `view.vms`. The caller clamps to
    /// 0...maxBalloonPages and ignores VMs without a driver. A negative target asks for that
    /// much more memory than the guest sees: the host hot-adds it where the VM has offline
    /// memory (Hyper-V Dynamic Memory), and clamps to 0 otherwise.
    mutating func targets(_ view: BalloonHostView) -> [Int]
}

extension BalloonPolicy {
    /// Which registered policy this is.
    public var kind: BalloonPolicyKind { BalloonPolicyKind(Parameters.self) }
    /// How often the host runs the policy.
    public var interval: SimDuration { parameters.interval }
}

/// The parameter table of one balloon policy, and the policy's entry in
/// `BalloonPolicyRegistry`.
///
/// A policy declares its name (`kindName`), a one-line `summary`, its own keys in
/// `ownFields` (every policy also has `interval`, first) and builds itself in `makePolicy()`.
public protocol BalloonPolicyParameters: ParameterVariant {
    /// How often the host runs the policy.
    var interval: SimDuration { get set }
    /// The policy's own keys; `fields` puts `interval` before them.
    static var ownFields: [ParameterField<Self>] { get }
    /// The policy with these parameters.
    func makePolicy() -> any BalloonPolicy
}

extension BalloonPolicyParameters {
    public static var tableName: String { "host.balloon_policy." + kindName }
    public static var fields: [ParameterField<Self>] {
        [.init(\.interval, "interval", "how often the host runs the policy", .period)] + ownFields
    }
}

/// A registered balloon policy, named as scenarios write it (`kind: mom`).
public struct BalloonPolicyKind: Hashable, Sendable, CustomStringConvertible {
    /// The policy's parameter table.
    public let parameterTable: any BalloonPolicyParameters.Type

    public init(_ parameterTable: any BalloonPolicyParameters.Type) { self.parameterTable = parameterTable }

    /// The registered policy called `rawValue`, if any.
    public init?(rawValue: String) {
        guard let t = BalloonPolicyRegistry.policies.first(where: { $0.kindName == rawValue }) else { return nil }
        self.init(t)
    }

    /// Every registered policy, in registry order.
    public static var allCases: [BalloonPolicyKind] { BalloonPolicyRegistry.policies.map(BalloonPolicyKind.init) }

    /// The name scenarios write (`mom`).
    public var rawValue: String { parameterTable.kindName }
    public var description: String { rawValue }
    /// One line naming the real system the policy follows.
    public var summary: String { parameterTable.summary }
    /// The policy with all its parameters at their defaults.
    public var defaultSpec: BalloonPolicySpec { BalloonPolicySpec(parameterTable.init()) }

    public static func == (a: BalloonPolicyKind, b: BalloonPolicyKind) -> Bool { a.rawValue == b.rawValue }
    public func hash(into h: inout Hasher) { h.combine(rawValue) }
}

/// A balloon policy named in a scenario: its kind and that kind's parameters.
///
/// Decodes from a table whose `kind` key picks the parameter table, e.g.
/// `{kind: mom, pressure_threshold: 20%}`; absent keys take the kind's defaults and an absent
/// `kind` means the registry's default (`esx`). Encodes back to the same flat mapping with
/// every key.
public struct BalloonPolicySpec: PlainParameterValue {
    /// The parameters; their type is the policy's kind.
    public var parameters: any BalloonPolicyParameters

    /// A policy with these parameters (the registry's default policy when omitted).
    public init(_ parameters: any BalloonPolicyParameters = BalloonPolicyRegistry.defaultPolicy.init()) {
        self.parameters = parameters
    }

    public var kind: BalloonPolicyKind { BalloonPolicyKind(type(of: parameters)) }
    public var kindName: String { kind.rawValue }

    /// Builds the policy.
    public func make() -> any BalloonPolicy { parameters.makePolicy() }

    /// Range problems, keys relative to the policy mapping; empty when valid.
    public func validationProblems() -> [ParameterProblem] { parameters.validationProblems() }

    public static var parameterKind: ParameterKind { ParameterVariants.kind(BalloonPolicyRegistry.policies) }
    public var parameterText: String { kindName }
    public func nestedProblems() -> [ParameterProblem] { validationProblems() }

    public init(from decoder: Decoder) throws {
        let policies = BalloonPolicyRegistry.policies
        let i = try ParameterVariants.caseIndex(
            policies, from: decoder, default: BalloonPolicyRegistry.defaultPolicy.kindName,
            noun: "balloon policy kind")
        parameters = try policies[i].init(from: decoder)
    }

    public func encode(to encoder: Encoder) throws { try ParameterVariants.encode(parameters, to: encoder) }

    public static func == (a: BalloonPolicySpec, b: BalloonPolicySpec) -> Bool { a.parameters.isEqual(to: b.parameters) }
}
