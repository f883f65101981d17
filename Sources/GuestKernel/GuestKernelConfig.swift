import OvercommitSupport

/// The guest kernel's tunables, named as Linux's sysctls under `/proc/sys/vm`, with
/// Linux's defaults, plus the few model settings Linux fixes at build time.
public struct GuestKernelConfig: ParameterTable {
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
    /// zswap's module parameters (off by default, as Linux's CONFIG_ZSWAP_DEFAULT_ON).
    public var zswap = ZswapConfig()
    /// Transparent huge pages and khugepaged (off by default; see `TransparentHugepageConfig`).
    public var transparent_hugepage = TransparentHugepageConfig()

    public init() {}

    public static let tableName = "guest.kernel"
    public static let tableSummary = "Guest kernel tunables, named and defaulted as Linux's /proc/sys/vm sysctls."
    public static let fields: [ParameterField<Self>] = [
        .init(
            \.overcommit_memory, "vm.overcommit_memory", "0 heuristic (refuse only requests larger than RAM + swap), 1 always, 2 strict (CommitLimit)",
            .range(0...2).described(as: "0 (heuristic), 1 (always) or 2 (strict)")),
        .init(
            \.overcommit_ratio, "vm.overcommit_ratio", "percent of RAM in CommitLimit = swap + RAM * ratio / 100 (mode 2)",
            .range(0...10_000), unit: "percent"),
        .init(
            \.overcommit_kbytes, "vm.overcommit_kbytes", "if non-zero, CommitLimit = swap + this many kB instead of the ratio",
            .atMost(1 << 32, because: "4TiB"), unit: "kB"),
        .init(
            \.admin_reserve_kbytes, "vm.admin_reserve_kbytes", "mode 2: CommitLimit headroom kept for CAP_SYS_ADMIN (guest processes run without it)",
            .atMost(1 << 32, because: "4TiB"), unit: "kB", unset: "min(free/32, 8MiB)"),
        .init(
            \.user_reserve_kbytes, "vm.user_reserve_kbytes", "mode 2: a process may not commit the last min(total_vm/32, this) of CommitLimit",
            .atMost(1 << 32, because: "4TiB"), unit: "kB", unset: "min(free/32, 128MiB)"),
        .init(
            \.swappiness, "vm.swappiness", "0-200: preference for swapping anonymous pages over dropping page cache",
            .range(0...200, because: "Linux's range")),
        .init(
            \.min_free_kbytes, "vm.min_free_kbytes", "the min watermark; derived as calculate_min_free_kbytes() does, clamped to 128 kB..256 MiB",
            .atMost(1 << 32, because: "4TiB"), unit: "kB", unset: "sqrt(lowmem_kB*16)"),
        .init(
            \.watermark_scale_factor, "vm.watermark_scale_factor", "gap between min, low and high watermarks in 0.01 % of memory (min 1/4 of min)",
            .range(1...3000), unit: "0.01 %"),
        .init(
            \.panic_on_oom, "vm.panic_on_oom", "1 or 2: the guest panics instead of killing a process",
            .range(0...2).described(as: "0, 1 or 2")),
        .init(
            \.oom_kill_allocating_task, "vm.oom_kill_allocating_task", "1: kill the allocating task instead of the worst by badness",
            .range(0...1).described(as: "0 or 1")),
        .init(
            \.dirty_background_ratio, "vm.dirty_background_ratio", "percent of available memory dirty before background writeback starts",
            .range(0...100), unit: "percent"),
        .init(
            \.dirty_expire_centisecs, "vm.dirty_expire_centisecs", "dirty page-cache data older than this is written back",
            .range(0...360_000_000, because: "the longest run"), unit: "1/100 s"),
        .init(\.page_cluster, "vm.page-cluster", "swap readahead reads 2^n slots around a faulting one", .range(0...10)),
        .init(
            \.randomize_va_space, "kernel.randomize_va_space",
            "ASLR: 0 off, 1 stack/mmap/vDSO, 2 also the heap; each execve gets a new layout, fork keeps it (pointers differ between execs)",
            .range(0...2).described(as: "0 (off), 1 (stack, mmap, vDSO) or 2 (also the heap)")),
        .init(\.kaslr, "kaslr", "kernel ASLR (CONFIG_RANDOMIZE_BASE): the image's relocated pages differ from boot to boot"),
        .init(
            \.read_ahead_kb, "read_ahead_kb", "read-ahead of a sequential page-cache miss, as /sys/block/*/queue/read_ahead_kb",
            .range(0...16_384), unit: "KiB"),
        .init(\.replacement_policy, "replacement_policy", "guest page replacement policy"),
        .init(
            \.kernel_reserved, "kernel_reserved", "memory the guest kernel keeps for itself at boot",
            .atMost(.gib(512), because: "the largest guest"), unset: "1.5% + 16MiB"),
        .init(\.kswapd_interval, "kswapd_interval", "period of kswapd's watermark check (it also wakes on allocation below low)", .period),
        .init(\.lru_scan_interval, "lru_scan_interval", "period of LRU aging (accessed-bit harvesting, active list balancing)", .period),
        .init(
            \.kswapd_batch, "kswapd_batch", "pages kswapd may reclaim per wakeup",
            .range(1...134_217_728, because: "the pages of the largest guest"), unit: "pages"),
        .init(
            \.thrashing_refaults_per_second, "thrashing_refaults_per_second", "refault rate above which the guest is reported thrashing",
            .above(0, atMost: 1e9), unit: "refaults/s"),
        .init(\.zswap, "zswap", "zswap, the compressed swap cache in guest RAM (/sys/module/zswap/parameters)"),
        .init(
            \.transparent_hugepage, "transparent_hugepage",
            "transparent huge pages of anonymous memory and khugepaged (/sys/kernel/mm/transparent_hugepage)"),
    ]
}
