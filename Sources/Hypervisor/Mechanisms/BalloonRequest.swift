import HostPolicies

/// Ballooning as a reclaim mechanism: raises the VM's balloon target; the driver inside the
/// guest inflates toward it at its poll rate, so the frames come later (VMware vmmemctl,
/// virtio-balloon).
public struct BalloonRequest: ReclaimMechanism {
    public init() {}
    public var technique: ReclaimTechnique { .balloon }
    public var summary: String { "VMware vmmemctl / virtio-balloon: the guest driver pins pages by the guest's own rules; the host frees their frames" }

    public func reclaim(_ pages: Int, from vm: VirtualMachine) -> ReclaimOutcome {
        guard vm.settings.balloonDriver, vm.poweredOn else { return .exhausted }
        let room = vm.settings.balloonMaxPages - vm.balloonTarget
        guard room > 0 else { return .exhausted }
        let n = min(room, pages)
        vm.balloonTarget += n
        return .requested(n)
    }
}
