/// KSM's run-time tunables, as `/sys/kernel/mm/ksm` holds them: what a policy program (MOM's
/// KSM controller) reads and writes while the host runs. The sharing scanner reads them at
/// every wake-up, so a change takes effect at the next one.
public struct KSMTunables: Sendable, Equatable {
    /// `run`: 0 ksmd stopped (merged pages stay merged), 1 running, 2 stopped after
    /// unmerging every shared page.
    public var run: Int
    /// `pages_to_scan`: pages scanned per wake-up, all VMs together.
    public var pages_to_scan: Int
    /// `sleep_millisecs`: sleep between wake-ups.
    public var sleep_millisecs: Int
    /// `merge_across_nodes`: 1 merges pages of different NUMA nodes; 0 keeps one stable tree
    /// (and one unstable tree) per node, so a page merges only with pages on its own node.
    public var merge_across_nodes: Int

    /// The tunables a host starts with: the configured rates or KSM's defaults,
    /// the configured `merge_across_nodes` (the kernel's default is 1), and `run` 1, except on a host whose
    /// sharing is disabled and that a policy program manages (`managed`): there `run` starts
    /// at 0 and the program may start ksmd. (Without a program, `host.sharing.enabled` says
    /// whether the engine wakes the scanner at all; a caller may still wake it by hand.)
    public init(_ config: SharingConfig, managed: Bool = false) {
        run = managed && !config.enabled ? 0 : 1
        pages_to_scan = config.pages_to_scan ?? SharingConfig.defaultPagesToScan
        sleep_millisecs = config.sleep_millisecs ?? SharingConfig.defaultSleepMillisecs
        merge_across_nodes = config.merge_across_nodes
    }

    /// Nanoseconds ksmd sleeps between wake-ups. `sleep_millisecs` 0 (which the kernel
    /// accepts: ksmd only yields the CPU) is taken as 1 ms so that simulated time advances.
    public var sleepNanoseconds: Int64 { Int64(max(1, sleep_millisecs)) * 1_000_000 }
}

/// A KSM tunable a policy can write (a file of `/sys/kernel/mm/ksm`).
public enum KSMTunable: String, Sendable, CaseIterable {
    case run, pages_to_scan, sleep_millisecs, merge_across_nodes
}

/// What writing a KSM tunable did, as the sysfs write would return.
public enum KSMWriteOutcome: Sendable, Equatable {
    /// The value is set (`run` 2: and every shared page was unmerged, `unmerged` pages).
    case written(unmerged: Int)
    /// EINVAL: the kernel refuses the value (the reason says what it accepts).
    case invalid(String)
    /// EBUSY: `merge_across_nodes` cannot change while pages are shared.
    case busy(String)
    /// `run` 2 ran out of memory while unmerging: `unmerged` pages were, the rest stay
    /// shared, and `run` falls back to 0 (as `run_store` does when unmerging fails).
    case outOfMemory(unmerged: Int)
}
