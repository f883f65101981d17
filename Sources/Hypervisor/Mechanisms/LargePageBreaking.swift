import HostPolicies

/// Breaks 2 MiB large pages into 4 KiB pages (ESXi from the clear state on), offering the
/// subpages whose hashes the scanner precomputed for sharing at once ("share before swap").
public struct LargePageBreaking: ReclaimMechanism {
    public init() {}
    public var technique: ReclaimTechnique { .break_large_pages }
    public var summary: String { "ESXi: break 2 MiB large pages into 4 KiB pages; subpages with precomputed hashes are shared at once" }

    public func reclaim(_ pages: Int, from vm: VirtualMachine) -> ReclaimOutcome {
        guard vm.largePages > 0 else { return .exhausted }
        let share = vm.host.config.sharing.enabled && vm.host.scheduler.machine.isEnabled(.share)
        var freed = 0, broken = 0
        let wanted = max(1, (pages + 511) / 512)
        for r in 0..<vm.largeRegion.count where vm.largeRegion[r] != 0 && broken < wanted {
            freed += vm.breakLargePage(r, shareFirst: share)
            broken += 1
        }
        vm.host.scheduler.noteLargePagesBroken(broken, sharedAtOnce: freed)
        return .reclaimed(freed)
    }
}
