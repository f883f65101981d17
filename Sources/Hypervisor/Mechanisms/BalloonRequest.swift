import HostPolicies

/// Ballooning as a reclaim mechanism: raises the VM's balloon target; the driver inside the
/// guest inflates toward it at its poll rate, so the frames come later (VMware vmmemctl,
/// virtio-balloon). The balloon policy calls it with what it wants from each VM.
public struct BalloonRequest: ReclaimMechanism {
    public init() {}
    public var technique: ReclaimTechnique { .balloon }
    public var summary: String { "VMware vmmemctl / virtio-balloon: the guest driver pins pages by the guest's own rules; the host frees their frames" }

    /// Room left under the balloon's maximum (0 without a driver or powered off).
    public func count(_ vm: VirtualMachine, on host: HostMemory) -> Int {
        guard vm.settings.balloonDriver, vm.poweredOn else { return 0 }
        return max(0, vm.settings.balloonMaxPages - vm.balloonTarget)
    }

    /// `requested` is how much the target rose.
    public func scan(_ control: HostReclaimControl, on host: HostMemory) -> ReclaimOutcome {
        var out = ReclaimOutcome()
        guard count(control.vm, on: host) > 0 else { return out }
        out.requested = control.vm.raiseBalloonTarget(by: control.nrToScan)
        return out
    }
}
