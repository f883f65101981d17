/// A snapshot of a guest's memory in the fields of Linux's /proc/meminfo (values in kB).
public struct Meminfo: Sendable, Equatable {
    public var MemTotal = 0
    public var MemFree = 0
    public var MemAvailable = 0
    public var Buffers = 0
    public var Cached = 0
    public var SwapCached = 0
    public var Active = 0
    public var Inactive = 0
    public var ActiveAnon = 0
    public var InactiveAnon = 0
    public var ActiveFile = 0
    public var InactiveFile = 0
    public var Unevictable = 0
    public var Mlocked = 0
    public var SwapTotal = 0
    public var SwapFree = 0
    /// Memory of the zswap pool, and the memory of the pages it holds (uncompressed).
    public var Zswap = 0
    public var Zswapped = 0
    public var Dirty = 0
    public var AnonPages = 0
    public var Mapped = 0
    public var Shmem = 0
    public var PageTables = 0
    public var CommitLimit = 0
    public var Committed_AS = 0
    /// Anonymous memory in transparent huge pages.
    public var AnonHugePages = 0
    public var Balloon = 0
    public var KernelReserved = 0
    /// zswap's debugfs or the zram device's mm_stat figures (not /proc/meminfo lines), read
    /// with the same snapshot.
    public var compressedSwap = CompressedSwapStats()

    /// Field names and values in /proc/meminfo order (names as Linux prints them).
    public var fields: [(String, Int)] {
        [
            ("MemTotal", MemTotal), ("MemFree", MemFree), ("MemAvailable", MemAvailable), ("Buffers", Buffers),
            ("Cached", Cached), ("SwapCached", SwapCached), ("Active", Active), ("Inactive", Inactive),
            ("Active(anon)", ActiveAnon), ("Inactive(anon)", InactiveAnon), ("Active(file)", ActiveFile),
            ("Inactive(file)", InactiveFile), ("Unevictable", Unevictable), ("Mlocked", Mlocked),
            ("SwapTotal", SwapTotal), ("SwapFree", SwapFree), ("Zswap", Zswap), ("Zswapped", Zswapped), ("Dirty", Dirty), ("AnonPages", AnonPages),
            ("Mapped", Mapped), ("Shmem", Shmem), ("PageTables", PageTables), ("CommitLimit", CommitLimit),
            ("Committed_AS", Committed_AS), ("AnonHugePages", AnonHugePages), ("Balloon", Balloon), ("KernelReserved", KernelReserved),
        ]
    }

    /// The text /proc/meminfo would show.
    public var text: String {
        fields.map { name, kb in
            let label = name + ":"
            let num = String(kb)
            return label + String(repeating: " ", count: max(1, 16 - label.count + 8 - num.count)) + num + " kB"
        }.joined(separator: "\n")
    }
}

/// The figures zswap shows in /sys/kernel/debug/zswap and a zram device in
/// /sys/block/zram0/mm_stat: whichever the guest uses (the other stays zero).
public struct CompressedSwapStats: Sendable, Equatable {
    /// Pages stored, same-filled ones included (zswap stored_pages, zram pages_stored).
    public var storedPages = 0
    /// Same-filled pages, stored with no pool memory (zswap same_filled_pages, zram same_pages).
    public var sameFilledPages = 0
    /// Guest pages the zsmalloc pool occupies (zswap pool_total_size, zram mem_used_total).
    public var poolPages = 0
    /// Compressed bytes stored (zram compr_data_size).
    public var compressedBytes = 0
    /// Pages zram stores uncompressed (huge_pages).
    public var hugePages = 0
    /// Whether the store is zswap's (false: zram's or none).
    public var isZswap = false
    /// Whether the store is a zram device's.
    public var isZram = false
    public init() {}
}
