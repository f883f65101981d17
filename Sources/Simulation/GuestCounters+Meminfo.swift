import GuestKernel
import OvercommitSupport

extension GuestCounters {
    /// The guest's /proc/meminfo, field by field, under Linux's names (values in kB, as the
    /// file prints them). `GuestCountersTests` checks the names and order against
    /// `Meminfo.fields`, the model's rendering of the file.
    public struct MeminfoGroup: CounterGroup {
        public static let key = "meminfo"

        static func field(
            _ name: String, sampled: Bool = false, also: [Equivalent] = [],
            _ read: @escaping @Sendable (Meminfo) -> Int
        ) -> GuestCounter {
            .kilobytes(name, sampled: sampled, "/proc/meminfo \(name)", also: [.meminfo(name)] + also) { read($0.meminfo) }
        }

        /// A line the model's /proc/meminfo adds to Linux's.
        static func addition(_ name: String, _ summary: String, _ read: @escaping @Sendable (Meminfo) -> Int) -> GuestCounter {
            .kilobytes(name, summary + " (the simulator's line; not in Linux's /proc/meminfo)") { read($0.meminfo) }
        }

        public let memTotal = field("MemTotal", also: [.dommemstat("available")]) { $0.MemTotal }
        public let memFree = field("MemFree", sampled: true, also: [.dommemstat("unused")]) { $0.MemFree }
        public let memAvailable = field("MemAvailable", also: [.dommemstat("usable")]) { $0.MemAvailable }
        public let buffers = field("Buffers") { $0.Buffers }
        public let cached = field("Cached", sampled: true, also: [.dommemstat("disk_caches (with Buffers and SwapCached)")]) { $0.Cached }
        public let swapCached = field("SwapCached", sampled: true) { $0.SwapCached }
        public let active = field("Active", sampled: true) { $0.Active }
        public let inactive = field("Inactive", sampled: true) { $0.Inactive }
        public let activeAnon = field("Active(anon)") { $0.ActiveAnon }
        public let inactiveAnon = field("Inactive(anon)") { $0.InactiveAnon }
        public let activeFile = field("Active(file)") { $0.ActiveFile }
        public let inactiveFile = field("Inactive(file)") { $0.InactiveFile }
        public let unevictable = field("Unevictable") { $0.Unevictable }
        public let mlocked = field("Mlocked", sampled: true) { $0.Mlocked }
        public let swapTotal = field("SwapTotal") { $0.SwapTotal }
        public let swapFree = field("SwapFree") { $0.SwapFree }
        public let zswap = field("Zswap", sampled: true) { $0.Zswap }
        public let zswapped = field("Zswapped") { $0.Zswapped }
        public let dirty = field("Dirty") { $0.Dirty }
        public let anonPages = field("AnonPages", sampled: true) { $0.AnonPages }
        public let mapped = field("Mapped") { $0.Mapped }
        public let shmem = field("Shmem") { $0.Shmem }
        public let pageTables = field("PageTables", sampled: true) { $0.PageTables }
        public let commitLimit = field("CommitLimit", sampled: true) { $0.CommitLimit }
        public let committedAS = field("Committed_AS", sampled: true) { $0.Committed_AS }
        public let anonHugePages = field("AnonHugePages", sampled: true) { $0.AnonHugePages }
        public let balloon = addition("Balloon", "memory the balloon driver holds") { $0.Balloon }
        public let kernelReserved = addition("KernelReserved", "memory reserved at boot (Linux: MemTotal's shortfall from RAM)") { $0.KernelReserved }
    }
}
