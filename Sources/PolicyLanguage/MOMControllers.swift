/// What MOM's controllers do with an evaluation's controls (`mom/Controllers/Balloon.py`,
/// `mom/Controllers/KSM.py`): the actions a host applies after each policy run.
public struct MOMControllerActions: Sendable, Equatable {
    /// Per guest, in `Guests` order: the memory to leave the guest after ballooning, in KiB
    /// (libvirt `setMemory`; the balloon is `balloon_max` minus it), or nil where the policy
    /// set no `balloon_target`. MOM's Balloon controller applies `int()` of the value and sends
    /// it even when it equals the current size.
    public var balloonTargets: [Int?]
    /// KSM tunables to write, in MOM's order (run, pages_to_scan, sleep_millisecs,
    /// merge_across_nodes): `int()` of each control, only where it differs from the latest
    /// Host sample's value, as MOM's KSM controller does.
    public var ksmTunables: [KSMTunable]

    public struct KSMTunable: Sendable, Equatable {
        public var control: MOMHostControl
        public var value: Int
        public init(_ control: MOMHostControl, _ value: Int) { self.control = control; self.value = value }
    }

    public init(balloonTargets: [Int?], ksmTunables: [KSMTunable]) {
        self.balloonTargets = balloonTargets; self.ksmTunables = ksmTunables
    }
}

extension PolicyEvaluation {
    /// The actions MOM's Balloon and KSM controllers take for this evaluation of `input`.
    /// A control whose value `int()` refuses (a string of letters, NaN) is an error naming the
    /// `Control` call (MOM's controller thread would crash on it).
    public func controllerActions(for input: PolicyInput) throws(PolicyError) -> MOMControllerActions {
        var targets: [Int?] = []
        targets.reserveCapacity(guestControls.count)
        for g in guestControls.indices {
            targets.append(try guestControl(.balloon_target, guest: g)?.appliedInteger())
        }
        var ksm: [MOMControllerActions.KSMTunable] = []
        let current = input.host.samples.last
        for c in MOMHostControl.allCases {
            guard let setting = hostControl(c), let v = try setting.appliedInteger() else { continue }
            let field = MOMHostField(rawValue: c.rawValue)!
            if let now = current?[field], PythonOps.equals(now, .int(v)) { continue }
            ksm.append(.init(c, v))
        }
        return MOMControllerActions(balloonTargets: targets, ksmTunables: ksm)
    }
}
