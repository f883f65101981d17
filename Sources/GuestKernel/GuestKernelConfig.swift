import OvercommitSupport

/// The guest kernel's tunables, named as Linux's sysctls under `/proc/sys/vm`, with
/// Linux's defaults, plus the few model settings Linux fixes at build time.
public struct GuestKernelConfig: ParameterTable, Equatable {
    /// vm.overcommit_memory: 0 heuristic, 1 always, 2 strict (mm/util.c `__vm_enough_memory`).
    public var overcommit_memory: Int = 0
    /// vm.overcommit_ratio: percent of RAM counted in CommitLimit under mode 2.
    public var overcommit_ratio: Int = 50
    /// vm.overcommit_kbytes: when non-zero, replaces overcommit_ratio.
    public var overcommit_kbytes: UInt64 = 0
    /// vm.admin_reserve_kbytes: CommitLimit headroom kept for processes without CAP_SYS_ADMIN
    /// under mode 2; nil derives it as `init_admin_reserve()` does: min(3 % of free memory, 8 MiB).
    public var admin_reserve_kbytes: UInt64? = nil
    /// vm.user_reserve_kbytes: under mode 2 a process may not commit the last
    /// min(total_vm / 32, this) of CommitLimit; nil derives it as `init_user_reserve()` does:
    /// min(3 % of free memory, 128 MiB).
    public var user_reserve_kbytes: UInt64? = nil
    /// vm.swappiness (0-200): relative cost of swapping anon vs dropping file pages.
    public var swappiness: Int = 60
    /// vm.min_free_kbytes; nil derives it as `calculate_min_free_kbytes()` (mm/page_alloc.c)
    /// does: int_sqrt(lowmem_kB * 16), clamped to 128 kB..256 MiB.
    public var min_free_kbytes: UInt64? = nil
    /// vm.watermark_scale_factor in units of 0.01 % (default 10 = 0.1 % of memory).
    public var watermark_scale_factor: Int = 10
    /// vm.panic_on_oom: 0 kill a process, 1 or 2 panic the guest.
    public var panic_on_oom: Int = 0
    /// vm.oom_kill_allocating_task: kill the task that triggered the OOM instead of scanning.
    public var oom_kill_allocating_task: Int = 0
    /// vm.dirty_background_ratio: percent of available memory dirty before background writeback.
    public var dirty_background_ratio: Int = 10
    /// vm.dirty_expire_centisecs: age at which dirty page-cache data is written back.
    public var dirty_expire_centisecs: Int = 3000
    /// vm.page-cluster: swap readahead reads 2^n pages around a faulting slot.
    public var page_cluster: Int = 3
    /// kernel.randomize_va_space: 0 no address-space randomisation, 1 stack, mmap base and
    /// vDSO, 2 also the heap (brk): every execve gets a new layout (fs/binfmt_elf.c
    /// `load_elf_binary`, mm/util.c `arch_pick_mmap_layout`); fork keeps the parent's. Linux's
    /// default is 2 (Documentation/admin-guide/sysctl/kernel.rst). With any layout
    /// randomisation the pointers a process writes differ from those of another execve of the
    /// same program (Barker et al., USENIX ATC 2012: ASLR reduces sharing).
    public var randomize_va_space: Int = 2
    /// Kernel address-space layout randomisation (x86-64 CONFIG_RANDOMIZE_BASE, on by default
    /// since Linux 4.12; `nokaslr` turns it off): the boot code moves the kernel to a random
    /// virtual offset and patches every absolute relocation (arch/x86/boot/compressed/misc.c
    /// `handle_relocations`), so the image's relocated pages differ from one boot to the next.
    public var kaslr: Bool = true
    /// Read-ahead window of the guest's disk (/sys/block/*/queue/read_ahead_kb): a page-cache
    /// miss that continues a sequential read brings this much in with one I/O.
    public var read_ahead_kb: Int = 128
    /// Guest page replacement policy.
    public var replacement_policy: ReplacementPolicyKind = .linux
    /// Memory the kernel keeps for itself at boot (text, data, struct page, slab).
    /// nil derives 1.5 % of memory + 16 MiB (struct page alone is 1.6 % on x86-64).
    public var kernel_reserved: ByteCount? = nil
    /// How often kswapd is woken to check the watermarks (it also wakes on allocation).
    public var kswapd_interval: SimDuration = .ms(10)
    /// How often the LRU ager clears accessed bits and balances active/inactive.
    public var lru_scan_interval: SimDuration = .ms(100)
    /// Pages kswapd may reclaim per wakeup (its throughput).
    public var kswapd_batch: Int = 4096
    /// Refault rate (per second, of pages evicted within one working-set period) above which
    /// the guest is reported as thrashing.
    public var thrashing_refaults_per_second: Double = 200

    public init() {}

    enum CodingKeys: String, CodingKey {
        case overcommit_memory = "vm.overcommit_memory"
        case overcommit_ratio = "vm.overcommit_ratio"
        case overcommit_kbytes = "vm.overcommit_kbytes"
        case admin_reserve_kbytes = "vm.admin_reserve_kbytes"
        case user_reserve_kbytes = "vm.user_reserve_kbytes"
        case swappiness = "vm.swappiness"
        case min_free_kbytes = "vm.min_free_kbytes"
        case watermark_scale_factor = "vm.watermark_scale_factor"
        case panic_on_oom = "vm.panic_on_oom"
        case oom_kill_allocating_task = "vm.oom_kill_allocating_task"
        case dirty_background_ratio = "vm.dirty_background_ratio"
        case dirty_expire_centisecs = "vm.dirty_expire_centisecs"
        case page_cluster = "vm.page-cluster"
        case randomize_va_space = "kernel.randomize_va_space"
        case kaslr
        case read_ahead_kb, replacement_policy, kernel_reserved, kswapd_interval, lru_scan_interval, kswapd_batch
        case thrashing_refaults_per_second
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var d = GuestKernelConfig()
        func get<T: Decodable>(_ k: CodingKeys, _ v: inout T) throws { if let x = try c.decodeIfPresent(T.self, forKey: k) { v = x } }
        try get(.overcommit_memory, &d.overcommit_memory)
        try get(.overcommit_ratio, &d.overcommit_ratio)
        try get(.overcommit_kbytes, &d.overcommit_kbytes)
        d.admin_reserve_kbytes = try c.decodeIfPresent(UInt64.self, forKey: .admin_reserve_kbytes)
        d.user_reserve_kbytes = try c.decodeIfPresent(UInt64.self, forKey: .user_reserve_kbytes)
        try get(.swappiness, &d.swappiness)
        d.min_free_kbytes = try c.decodeIfPresent(UInt64.self, forKey: .min_free_kbytes)
        try get(.watermark_scale_factor, &d.watermark_scale_factor)
        try get(.panic_on_oom, &d.panic_on_oom)
        try get(.oom_kill_allocating_task, &d.oom_kill_allocating_task)
        try get(.dirty_background_ratio, &d.dirty_background_ratio)
        try get(.dirty_expire_centisecs, &d.dirty_expire_centisecs)
        try get(.page_cluster, &d.page_cluster)
        try get(.randomize_va_space, &d.randomize_va_space)
        try get(.kaslr, &d.kaslr)
        try get(.read_ahead_kb, &d.read_ahead_kb)
        try get(.replacement_policy, &d.replacement_policy)
        d.kernel_reserved = try c.decodeIfPresent(ByteCount.self, forKey: .kernel_reserved)
        try get(.kswapd_interval, &d.kswapd_interval)
        try get(.lru_scan_interval, &d.lru_scan_interval)
        try get(.kswapd_batch, &d.kswapd_batch)
        try get(.thrashing_refaults_per_second, &d.thrashing_refaults_per_second)
        self = d
    }

    /// Range and consistency problems, as (key, message) pairs; empty when valid.
    public func validationProblems() -> [(key: String, message: String)] {
        var p: [(String, String)] = []
        if !(0...2).contains(overcommit_memory) { p.append(("vm.overcommit_memory", "must be 0 (heuristic), 1 (always) or 2 (strict); got \(overcommit_memory)")) }
        if !(0...10_000).contains(overcommit_ratio) { p.append(("vm.overcommit_ratio", "must be between 0 and 10000 percent; got \(overcommit_ratio)")) }
        if !(0...200).contains(swappiness) { p.append(("vm.swappiness", "must be between 0 and 200 (Linux's range); got \(swappiness)")) }
        if !(1...3000).contains(watermark_scale_factor) { p.append(("vm.watermark_scale_factor", "must be between 1 and 3000 (units of 0.01 %); got \(watermark_scale_factor)")) }
        if !(0...2).contains(panic_on_oom) { p.append(("vm.panic_on_oom", "must be 0, 1 or 2; got \(panic_on_oom)")) }
        if !(0...1).contains(oom_kill_allocating_task) { p.append(("vm.oom_kill_allocating_task", "must be 0 or 1; got \(oom_kill_allocating_task)")) }
        if !(0...100).contains(dirty_background_ratio) { p.append(("vm.dirty_background_ratio", "must be between 0 and 100; got \(dirty_background_ratio)")) }
        if dirty_expire_centisecs < 0 { p.append(("vm.dirty_expire_centisecs", "must not be negative")) }
        if !(0...10).contains(page_cluster) { p.append(("vm.page-cluster", "must be between 0 and 10; got \(page_cluster)")) }
        if !(0...2).contains(randomize_va_space) { p.append(("kernel.randomize_va_space", "must be 0 (off), 1 (stack, mmap, vDSO) or 2 (also the heap); got \(randomize_va_space)")) }
        if !(0...16384).contains(read_ahead_kb) { p.append(("read_ahead_kb", "must be between 0 and 16384; got \(read_ahead_kb)")) }
        if kswapd_interval.nanoseconds <= 0 { p.append(("kswapd_interval", "must be positive")) }
        if lru_scan_interval.nanoseconds <= 0 { p.append(("lru_scan_interval", "must be positive")) }
        if kswapd_batch < 1 { p.append(("kswapd_batch", "must be at least 1")) }
        if !(thrashing_refaults_per_second > 0) { p.append(("thrashing_refaults_per_second", "must be positive")) }
        return p
    }

    public static let tableName = "guest.kernel"
    public static let tableSummary = "Guest kernel tunables, named and defaulted as Linux's /proc/sys/vm sysctls."
    public static let parameters: [ParameterInfo] = [
        .init("vm.overcommit_memory", .int, default: "0", "0 heuristic (refuse only requests larger than RAM + swap), 1 always, 2 strict (CommitLimit)"),
        .init("vm.overcommit_ratio", .int, default: "50", "percent of RAM in CommitLimit = swap + RAM * ratio / 100 (mode 2)"),
        .init("vm.overcommit_kbytes", .int, default: "0", "if non-zero, CommitLimit = swap + this many kB instead of the ratio"),
        .init("vm.admin_reserve_kbytes", .int, default: "min(free/32, 8MiB)", "mode 2: CommitLimit headroom kept for CAP_SYS_ADMIN (guest processes run without it)"),
        .init("vm.user_reserve_kbytes", .int, default: "min(free/32, 128MiB)", "mode 2: a process may not commit the last min(total_vm/32, this) of CommitLimit"),
        .init("vm.swappiness", .int, default: "60", "0-200: preference for swapping anonymous pages over dropping page cache"),
        .init("vm.min_free_kbytes", .int, default: "sqrt(lowmem_kB*16)", "the min watermark; derived as calculate_min_free_kbytes() does, clamped to 128 kB..256 MiB"),
        .init("vm.watermark_scale_factor", .int, default: "10", "gap between min, low and high watermarks in 0.01 % of memory (min 1/4 of min)"),
        .init("vm.panic_on_oom", .int, default: "0", "1 or 2: the guest panics instead of killing a process"),
        .init("vm.oom_kill_allocating_task", .int, default: "0", "1: kill the allocating task instead of the worst by badness"),
        .init("vm.dirty_background_ratio", .int, default: "10", "percent of available memory dirty before background writeback starts"),
        .init("vm.dirty_expire_centisecs", .int, default: "3000", "dirty page-cache data older than this is written back"),
        .init("vm.page-cluster", .int, default: "3", "swap readahead reads 2^n slots around a faulting one"),
        .init("kernel.randomize_va_space", .int, default: "2", "ASLR: 0 off, 1 stack/mmap/vDSO, 2 also the heap; each execve gets a new layout, fork keeps it (pointers differ between execs)"),
        .init("kaslr", .bool, default: "true", "kernel ASLR (CONFIG_RANDOMIZE_BASE): the image's relocated pages differ from boot to boot"),
        .init("read_ahead_kb", .int, default: "128", "read-ahead of a sequential page-cache miss, as /sys/block/*/queue/read_ahead_kb"),
        .init("replacement_policy", .choice(ReplacementPolicyKind.allCases.map(\.rawValue)), default: "linux", "guest page replacement policy"),
        .init("kernel_reserved", .bytes, default: "1.5% + 16MiB", "memory the guest kernel keeps for itself at boot"),
        .init("kswapd_interval", .duration, default: "10ms", "period of kswapd's watermark check (it also wakes on allocation below low)"),
        .init("lru_scan_interval", .duration, default: "100ms", "period of LRU aging (accessed-bit harvesting, active list balancing)"),
        .init("kswapd_batch", .int, default: "4096", "pages kswapd may reclaim per wakeup"),
        .init("thrashing_refaults_per_second", .double, default: "200", "refault rate above which the guest is reported thrashing"),
    ]
}

/// The guest's page replacement policies (one file per implementation).
public enum ReplacementPolicyKind: String, CaseIterable, Codable, Sendable {
    /// Linux's active/inactive lists with the referenced flag (second chance, promote on second access).
    case linux
    /// Exact least-recently-used: every access moves the page to the head.
    case lru
    /// First in, first out: pages leave in the order they arrived.
    case fifo
    /// CLOCK (second chance over one circular list).
    case clock
    /// Belady's optimal: evict the page used furthest in the future (trace replay only).
    case opt

    public var summary: String {
        switch self {
        case .linux: "Linux two-list LRU approximation (active/inactive, referenced flag, page state machine)"
        case .lru: "exact LRU: each access moves the page to the list head"
        case .fifo: "FIFO: evict the oldest resident page"
        case .clock: "CLOCK: second chance with the accessed bit over one list"
        case .opt: "Belady's OPT: evict the page referenced furthest in the future (trace replay only)"
        }
    }
}
