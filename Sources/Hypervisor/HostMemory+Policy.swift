/// What a policy program running on the host (oVirt MOM) may change: each VM's balloon
/// target, and KSM's tunables, through their owners.
extension HostMemory {
    /// Sets the balloon target of `vm` (pages), as MOM's Balloon controller sets a guest's
    /// memory through libvirt: clamped to 0...the balloon's maximum, raised through the
    /// balloon mechanism or lowered at once; ignored for a VM without a driver or powered off.
    /// Returns the target now in force.
    @discardableResult
    public func setBalloonTarget(_ vm: VirtualMachine, pages: Int) -> Int {
        scheduler.applyBalloonTarget(pages, to: vm, on: self)
    }

    /// KSM's tunables now.
    public var ksmTunables: KSMTunables { sharingScanScheduler.tunables }

    /// Writes one KSM tunable as a write to its `/sys/kernel/mm/ksm` file does (mm/ksm.c
    /// `run_store`, `pages_to_scan_store`, `sleep_millisecs_store`,
    /// `merge_across_nodes_store`): values the kernel refuses leave everything unchanged;
    /// `run` 2 stops the scanner and unmerges every shared page at once; `merge_across_nodes`
    /// changes only while no page is shared.
    public func writeKSM(_ tunable: KSMTunable, _ value: Int) -> KSMWriteOutcome {
        var t = sharingScanScheduler.tunables
        let uintMax = Int(UInt32.max)
        switch tunable {
        case .run:
            guard (0...2).contains(value) else { return .invalid("run accepts 0, 1 or 2; got \(value)") }
            guard value != t.run else { return .written(unmerged: 0) }
            t.run = value
            sharingScanScheduler.tunables = t
            guard value == 2 else { return .written(unmerged: 0) }
            sharing.forgetCandidates()
            var unmerged = 0
            for vm in vms {
                let r = vm.unmergeSharedPages()
                unmerged += r.unmerged
                if r.outOfFrames {
                    sharingScanScheduler.tunables.run = 0
                    return .outOfMemory(unmerged: unmerged)
                }
            }
            return .written(unmerged: unmerged)
        case .pages_to_scan:
            guard (0...uintMax).contains(value) else { return .invalid("pages_to_scan accepts 0...\(uintMax); got \(value)") }
            t.pages_to_scan = value
        case .sleep_millisecs:
            guard (0...uintMax).contains(value) else { return .invalid("sleep_millisecs accepts 0...\(uintMax); got \(value)") }
            t.sleep_millisecs = value
        case .merge_across_nodes:
            guard (0...1).contains(value) else { return .invalid("merge_across_nodes accepts 0 or 1; got \(value)") }
            guard value != t.merge_across_nodes else { return .written(unmerged: 0) }
            guard sharing.pages_shared == 0 else {
                return .busy("merge_across_nodes cannot change while \(sharing.pages_shared) pages are shared (unmerge with run 2 first)")
            }
            t.merge_across_nodes = value
            sharing.mergeAcrossNodes = value == 1
        }
        sharingScanScheduler.tunables = t
        return .written(unmerged: 0)
    }
}
