import GuestKernel
import Hypervisor
import OvercommitSupport
import PolicyLanguage

/// MOM's collectors over the simulated host: what `HostMonitor` and each `GuestMonitor` of
/// an oVirt host (vdsm's `mom.conf`: HostMemory, HostKSM, HostCpu; GuestMemoryOptional,
/// GuestBalloonOptional, GuestQemuProc) would read, in MOM's and vdsm's units (KiB unless
/// the data model says otherwise). Reading changes nothing in the model.
struct MOMCollectors {
    /// Counters at the previous collection, for the fields MOM reports as differences or rates.
    struct HostCounters {
        var collected = false
        var timeNs: Int64 = 0
        var swapIns = 0, swapOuts = 0
        var ksmCpuNs: Int64 = 0
    }
    struct GuestCounters {
        var timeNs: Int64
        var vmstat: VMStat
        var eptFaults: Int
        var hostSwapIns: Int
    }

    var host = HostCounters()
    /// By VM index; nil until the VM's first collection.
    var guests: [GuestCounters?]

    init(vms: Int) { guests = Array(repeating: nil, count: vms) }

    /// Host: HostMemory (usable memory, free, host swap in and out in pages since the previous
    /// collection, anonymous memory, swap), HostKSM (the live tunables and counters,
    /// `ksm_shareable` = the virtual size of the VMs' processes, `ksmd_cpu_usage` = the
    /// scanner's CPU time over the interval, percent of one CPU), HostCpu.
    ///
    /// `mem_available` is the memory the host can give guests (RAM minus the hypervisor's),
    /// the quantity the built-in balloon policies divide free memory by; `mem_free` and
    /// `mem_unused` are both the free machine frames (the host has no page cache).
    mutating func hostSample(_ h: HostMemory, now: Int64) -> MOMHostSample {
        var s = MOMHostSample()
        let usable = h.totalFrames - h.hypervisorFrames
        var swapIns = 0, swapOuts = 0, swapTotal = 0, swapped = 0, shareable = 0
        for vm in h.vms {
            swapIns += vm.stats.swapIns
            swapOuts += vm.stats.swapOuts
            swapTotal += vm.swapCapacity
            swapped += vm.swappedPages
            if vm.poweredOn { shareable += vm.configuredPages + vm.overheadPages }
        }
        let first = !host.collected
        s[.mem_available] = .int(usable * 4)
        s[.mem_unused] = .int(h.freeFrames * 4)
        s[.mem_free] = .int(h.freeFrames * 4)
        s[.swap_in] = .int(first ? 0 : swapIns - host.swapIns)
        s[.swap_out] = .int(first ? 0 : swapOuts - host.swapOuts)
        s[.anon_pages] = .int((h.privateFrames + h.sharing.sharedFrames) * 4)
        s[.swap_total] = .int(h.config.swap.enabled ? swapTotal * 4 : 0)
        s[.swap_usage] = .int(swapped * 4)
        let k = h.ksmTunables
        s[.ksm_run] = .int(k.run)
        s[.ksm_sleep_millisecs] = .int(k.sleep_millisecs)
        s[.ksm_pages_to_scan] = .int(k.pages_to_scan)
        s[.ksm_merge_across_nodes] = .int(k.merge_across_nodes)
        s[.ksm_pages_shared] = .int(h.sharing.pages_shared)
        s[.ksm_pages_sharing] = .int(h.sharing.pages_sharing)
        s[.ksm_pages_unshared] = .int(h.sharing.pages_unshared)
        s[.ksm_pages_volatile] = .int(h.sharing.pages_volatile)
        s[.ksm_full_scans] = .int(h.sharing.full_scans)
        s[.ksm_shareable] = .int(shareable * 4)
        let elapsed = first ? 0 : now - host.timeNs
        s[.ksmd_cpu_usage] = .int(elapsed > 0 ? Int(100 * Double(h.sharing.cpuNs - host.ksmCpuNs) / Double(elapsed)) : 0)
        s[.cpu_count] = .int(h.config.cpus)
        host = HostCounters(collected: true, timeNs: now, swapIns: swapIns, swapOuts: swapOuts, ksmCpuNs: h.sharing.cpuNs)
        return s
    }

    /// One guest: GuestMemory from the guest's /proc/meminfo and /proc/vmstat (as virtio-balloon's
    /// statistics and vdsm report them: faults and swap as rates per second over the interval
    /// since the previous collection, 0 at the first), GuestBalloon (nil without a balloon
    /// driver), GuestQemuProc (host faults since the previous collection, frames mapped).
    mutating func guestSample(_ vm: VirtualMachine, kernel: GuestKernel, now: Int64) -> MOMGuestSample {
        var s = MOMGuestSample()
        // With a stats period, what libvirt's virDomainMemoryStats returns: the last poll.
        let report = vm.policyStatsReport
        let m = report?.meminfo ?? kernel.meminfo
        let v = report?.vmstat ?? kernel.vmstat
        let sampleTime = report?.timeNs ?? now
        let prev = guests[vm.index]
        let seconds = prev.map { Double(sampleTime - $0.timeNs) / 1e9 } ?? 0
        func rate(_ delta: Int, _ unit: Int = 1) -> PolicyValue {
            seconds > 0 ? .float(Double(delta * unit) / seconds) : .int(0)
        }
        s[.mem_available] = .int(m.MemTotal)
        s[.mem_unused] = .int(vm.policyBalloonStats.freePages * 4)
        s[.mem_free] = .int(m.MemFree + m.Buffers + m.Cached)
        let pv = prev?.vmstat ?? v
        s[.major_fault] = rate(v.pgmajfault - pv.pgmajfault)
        s[.minor_fault] = rate((v.pgfault - v.pgmajfault) - (pv.pgfault - pv.pgmajfault))
        s[.swap_in] = rate(v.pswpin - pv.pswpin, 4)
        s[.swap_out] = rate(v.pswpout - pv.pswpout, 4)
        s[.swap_total] = .int(m.SwapTotal)
        s[.swap_usage] = .int(m.SwapTotal - m.SwapFree)
        if vm.settings.balloonDriver {
            s[.balloon_cur] = .int((vm.configuredPages - vm.balloonPages) * 4)
            s[.balloon_max] = .int(vm.configuredPages * 4)
            s[.balloon_min] = .int(vm.balloonSettings.minimumPages(configuredPages: vm.configuredPages) * 4)
        }
        let hostMajor = vm.stats.swapIns - (prev?.hostSwapIns ?? vm.stats.swapIns)
        let faults = vm.stats.eptFaults - (prev?.eptFaults ?? vm.stats.eptFaults)
        s[.host_major_faults] = .int(hostMajor)
        s[.host_minor_faults] = .int(faults - hostMajor)
        s[.rss] = .int(vm.privatePages + vm.sharedPages)
        guests[vm.index] = GuestCounters(timeNs: sampleTime, vmstat: v, eptFaults: vm.stats.eptFaults, hostSwapIns: vm.stats.swapIns)
        return s
    }

    /// A stable UUID for a VM (libvirt's domain UUID), from its name.
    static func uuid(_ name: String) -> String {
        let a = StableHash.fnv1a64("uuid:" + name), b = StableHash.fnv1a64("uuid2:" + name)
        func hex(_ v: UInt64, _ digits: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: max(0, digits - s.count)) + s
        }
        let h = hex(a, 16) + hex(b, 16)
        let c = Array(h)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-4" + String(c[13..<16]) + "-a" + String(c[17..<20]) + "-" + String(c[20..<32])
    }
}
