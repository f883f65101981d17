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

    public init(name: String, configuredPages: Int, consumedPages: Int = 0, balloonPages: Int = 0, targetPages: Int = 0,
                maxBalloonPages: Int? = nil, hasDriver: Bool = true, guestFreePages: Int = 0, guestAvailablePages: Int = 0,
                reservationPages: Int = 0, limitPages: Int = .max, shares: Double = 0, activeFraction: Double = 1,
                reclaimTargetPages: Int = 0, settings: BalloonVMSettings = BalloonVMSettings()) {
        self.name = name; self.configuredPages = configuredPages; self.consumedPages = consumedPages
        self.balloonPages = balloonPages; self.targetPages = targetPages
        self.maxBalloonPages = maxBalloonPages ?? settings.maxBalloonPages(configuredPages: configuredPages)
        self.hasDriver = hasDriver; self.guestFreePages = guestFreePages; self.guestAvailablePages = guestAvailablePages
        self.reservationPages = reservationPages; self.limitPages = limitPages; self.shares = shares
        self.activeFraction = activeFraction; self.reclaimTargetPages = reclaimTargetPages; self.settings = settings
    }

    /// Guest memory the balloon leaves the VM (what oVirt, Proxmox and Xen call the VM's
    /// current memory).
    public var guestMemoryPages: Int { configuredPages - balloonPages }
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

    public init(timeNs: Int64 = 0, usablePages: Int, freePages: Int, minFreePages: Int = 0,
                state: HostMemoryState = .high, ballooningEnabled: Bool = false, vms: [BalloonVMView]) {
        self.timeNs = timeNs; self.usablePages = usablePages; self.freePages = freePages
        self.minFreePages = minFreePages; self.state = state; self.ballooningEnabled = ballooningEnabled; self.vms = vms
    }
}

/// A host balloon policy: reads the host and its VMs, sets each VM's balloon target.
public protocol BalloonPolicy: Sendable {
    var kind: BalloonPolicyKind { get }
    /// How often the host runs the policy.
    var interval: SimDuration { get }
    /// New balloon target per VM (pages), same order as `view.vms`. The caller clamps to
    /// 0...maxBalloonPages and ignores VMs without a driver.
    mutating func targets(_ view: BalloonHostView) -> [Int]
}

/// The parameter table of one balloon policy kind.
public protocol BalloonPolicyParameters: ParameterTable, Equatable {
    /// How often the host runs the policy.
    var interval: SimDuration { get set }
    /// Range problems, keys relative to the policy table.
    func validationProblems() -> [ParameterProblem]
}

/// The balloon policies: the registry shown by `--help` and `overcommit policies`.
public enum BalloonPolicyKind: String, CaseIterable, Codable, Sendable {
    case esx, mom, proxmox, xenserver
    case static_ = "static"
    case none

    /// One line naming the real system the policy follows.
    public var summary: String {
        switch self {
        case .esx: "VMware ESX: balloon while the host is in the soft state, by shares with the idle memory tax; always enforce limits"
        case .mom: "oVirt MOM default balloon.rules: shrink guests while host free memory is under 20%, grow them back otherwise, 5% per step"
        case .proxmox: "Proxmox VE pvestatd auto-ballooning: aim host memory use at 80%, at most 100MiB per VM per round, split by shares"
        case .xenserver: "XenServer squeezed: every VM at the same fraction between dynamic-min and dynamic-max so that they fit; stuck balloons skipped"
        case .static_: "static balloon: each VM holds its static_target balloon at all times"
        case .none: "no ballooning: every target is 0"
        }
    }

    /// The kind's parameter table.
    public var parameterTable: any ParameterTable.Type {
        switch self {
        case .esx: ESXBalloonParameters.self
        case .mom: MOMBalloonParameters.self
        case .proxmox: ProxmoxBalloonParameters.self
        case .xenserver: XenServerBalloonParameters.self
        case .static_: StaticBalloonParameters.self
        case .none: NoBalloonParameters.self
        }
    }

    /// The kind with all its parameters at their defaults.
    public var defaultSpec: BalloonPolicySpec {
        switch self {
        case .esx: .esx(ESXBalloonParameters())
        case .mom: .mom(MOMBalloonParameters())
        case .proxmox: .proxmox(ProxmoxBalloonParameters())
        case .xenserver: .xenserver(XenServerBalloonParameters())
        case .static_: .static_(StaticBalloonParameters())
        case .none: .none(NoBalloonParameters())
        }
    }
}

/// A balloon policy named in a scenario: its kind and that kind's parameters.
///
/// Decodes from a table whose `kind` key picks the parameter table, e.g.
/// `{kind: mom, pressure_threshold: 20%}`; absent keys take the kind's defaults and an absent
/// `kind` means `esx`. Encodes back to the same flat mapping with every key.
public enum BalloonPolicySpec: Codable, Sendable, Equatable {
    case esx(ESXBalloonParameters)
    case mom(MOMBalloonParameters)
    case proxmox(ProxmoxBalloonParameters)
    case xenserver(XenServerBalloonParameters)
    case static_(StaticBalloonParameters)
    case none(NoBalloonParameters)

    public var kind: BalloonPolicyKind {
        switch self {
        case .esx: .esx
        case .mom: .mom
        case .proxmox: .proxmox
        case .xenserver: .xenserver
        case .static_: .static_
        case .none: .none
        }
    }

    public var kindName: String { kind.rawValue }

    /// The parameters, type-erased.
    public var parameters: any BalloonPolicyParameters {
        switch self {
        case .esx(let p): p
        case .mom(let p): p
        case .proxmox(let p): p
        case .xenserver(let p): p
        case .static_(let p): p
        case .none(let p): p
        }
    }

    enum KindKey: String, CodingKey { case kind }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: KindKey.self)
        let name = try c.decodeIfPresent(String.self, forKey: .kind) ?? BalloonPolicyKind.esx.rawValue
        guard let kind = BalloonPolicyKind(rawValue: name) else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription:
                "unknown balloon policy kind '\(name)'; allowed: " + BalloonPolicyKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        switch kind {
        case .esx: self = .esx(try ESXBalloonParameters(from: decoder))
        case .mom: self = .mom(try MOMBalloonParameters(from: decoder))
        case .proxmox: self = .proxmox(try ProxmoxBalloonParameters(from: decoder))
        case .xenserver: self = .xenserver(try XenServerBalloonParameters(from: decoder))
        case .static_: self = .static_(try StaticBalloonParameters(from: decoder))
        case .none: self = .none(try NoBalloonParameters(from: decoder))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: KindKey.self)
        try c.encode(kindName, forKey: .kind)
        try parameters.encode(to: encoder)
    }

    /// The parameter schema: one table per kind, selected by `kind`.
    public static var parameterKind: ParameterKind {
        .variant(discriminator: "kind", cases: BalloonPolicyKind.allCases.map { ($0.rawValue, $0.parameterTable) })
    }

    /// Range problems, keys relative to the policy mapping; empty when valid.
    public func validationProblems() -> [ParameterProblem] { parameters.validationProblems() }

    /// Builds the policy.
    public func make() -> any BalloonPolicy {
        switch self {
        case .esx(let p): ESXBalloonPolicy(p)
        case .mom(let p): MOMBalloonPolicy(p)
        case .proxmox(let p): ProxmoxBalloonPolicy(p)
        case .xenserver(let p): XenServerBalloonPolicy(p)
        case .static_(let p): StaticBalloonPolicy(p)
        case .none(let p): NoBalloonPolicy(p)
        }
    }
}

/// The `interval` key every policy table has.
func intervalInfo(_ d: SimDuration) -> ParameterInfo {
    .init("interval", .duration, default: d.description, "how often the host runs the policy")
}
