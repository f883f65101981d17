/// ESXi's `minFree`: the free machine memory the memory scheduler tries to keep, from which
/// the free-memory state thresholds are derived (`HostStateConfig`).
///
/// Follows ESXi 5.x/6.x's sliding scale (Mem.MemMinFreePct = 0, automatic): 6 % of the first
/// 4 GiB, 4 % of the next 8 GiB, 2 % of the next 16 GiB and 1 % of the rest. For 28 GiB this
/// gives 901 MiB; VMware quotes 899 MiB because ESXi applies the scale to the memory the
/// vmkernel manages, slightly less than the installed RAM.
public enum MinFree {
    /// The scale's bands, in 4 KiB pages, with their percentage; the last band is open.
    static let bands: [(pages: Int, percent: Int)] = [(1 << 20, 6), (2 << 20, 4), (4 << 20, 2), (Int.max, 1)]

    /// minFree in 4 KiB pages for a host with `hostPages` pages of memory (rounded down).
    public static func pages(hostPages: Int) -> Int {
        var rest = max(0, hostPages), hundredths = 0
        for band in bands where rest > 0 {
            let n = min(rest, band.pages)
            hundredths += n * band.percent
            rest -= n
        }
        return hundredths / 100
    }
}
