import GuestKernel
import OvercommitSupport
import PageContents

/// The constant data a program writes every time it starts: what makes two processes of one
/// program hold byte-identical anonymous pages.
///
/// A process builds much of its start-up memory from inputs that are the same every run:
/// the configuration it parses, class metadata and bytecode, interned strings, lookup
/// tables, the data and GOT pages of its libraries after the dynamic linker relocated them.
/// Those pages are the same in every process of the program — workers forked from one
/// master, renderers forked from one parent, a daemon in each clone of an image — as long
/// as the bytes do not depend on where things were placed. Pages holding pointers (styles
/// `pointers`, `sparse`, `code`) also depend on the process's address-space layout
/// (`GuestProcess.layoutSeed`): equal across fork, different after each execve under ASLR
/// (`kernel.randomize_va_space`), equal everywhere without it. Barker et al. (USENIX ATC
/// 2012) found that such duplicates inside one machine (libraries and heaps, "recreated
/// data structures") make up about 90 % of real sharing, and that ASLR reduces it.
///
/// Which start-up pages are program data is fixed per program (a hash of the program and
/// the page against `fraction`), so every process of the program agrees; their styles are
/// drawn from the workload's content mix. The other pages get fresh contents (instance
/// data: requests, per-VM keys and names, buffers).
struct ProgramData: Sendable {
    /// Identity of the program: its binary's contents, or the image and program name.
    let program: UInt64
    /// `fraction` scaled to 2^53.
    let threshold: UInt64
    /// 256 style picks in proportion to the content mix.
    let styles: [ContentStyle]

    /// - Parameters:
    ///   - program: the program's identity (`identity(kernel:name:binary:)`).
    ///   - fraction: share of start-up pages that are program data.
    ///   - mix: the workload's content mix (the styles program data pages take).
    init(program: UInt64, fraction: Double, mix: StyleMix) {
        self.program = program
        threshold = UInt64(max(0, min(1, fraction)) * Double(UInt64(1) << 53))
        styles = GuestKernel.styleTable(mix.isEmpty ? [(.pointers, 1)] : mix)
    }

    /// The identity of a program of the guest's image: its binary file's contents when it has
    /// one (equal wherever the same bytes are installed), else the image and the program name.
    static func identity(kernel: GuestKernel, name: String, binary: FileID? = nil) -> UInt64 {
        if let b = binary { return StableHash.mix(kernel.files[Int(b)].contentSeed, StableHash.fnv1a64("program-data")) }
        return StableHash.mix(kernel.imageSeed, StableHash.fnv1a64("program:" + name))
    }

    /// The default share of start-up memory that is program data.
    static let defaultFraction = Percentage(percent: 25)
    /// The description every workload's `program_data` key shares.
    static let parameterSummary =
        "share of the memory written at start-up that is the program's constant data (parsed configuration, class and bytecode data, relocated library data): identical in every process of the program and image; pages holding pointers only under the same address-space layout (ASLR)"

    /// Region tags: start-up pages of different regions of a program are different data.
    enum Region {
        static let initMemory: UInt64 = 1
        static let daemonMemory: UInt64 = 2
        static let masterMemory: UInt64 = 3
        static let workerMemory: UInt64 = 4
        static let parentMemory: UInt64 = 5
        static let childMemory: UInt64 = 6
        static let heap: UInt64 = 7
    }

    /// The pages of a `pages`-page region that are program data, in order (what a forked
    /// worker writes when it sets itself up).
    func programPages(region: UInt64, pages: Int) -> [Int] {
        guard threshold > 0 else { return [] }
        return (0..<pages).filter { StableHash.mix(StableHash.mix(program, region), UInt64($0)) >> 11 < threshold }
    }

    /// Whether any page is program data.
    var isEmpty: Bool { threshold == 0 }

    /// The contents start-up page `page` of region `region` holds in a process with address-space
    /// layout `layout`, or nil when the page is instance data (fresh contents).
    func content(region: UInt64, page: Int, layout: UInt64) -> PageContent? {
        guard threshold > 0 else { return nil }
        let h = StableHash.mix(StableHash.mix(program, region), UInt64(page))
        guard h >> 11 < threshold else { return nil }
        let style = styles[Int(truncatingIfNeeded: StableHash.mix(h, 0x5_7E1E) & 255)]
        switch style {
        case .pointers, .sparse, .code:
            return PageContent(style: style, seed: StableHash.mix(h, layout))
        default:
            return PageContent(style: style, seed: h)
        }
    }
}

extension WorkloadContext {
    /// A start-up write of page `page` of `region` at `vpn` (memory speed, no think time): the
    /// program's constant data when `data` says the page is, fresh contents otherwise.
    mutating func populate(_ kernel: GuestKernel, _ pid: PID, _ vpn: VPN, _ data: ProgramData, region: UInt64, page: Int) -> AccessResult {
        if let content = data.content(region: region, page: page, layout: kernel.process(pid)?.layoutSeed ?? 0) {
            return store(kernel, pid, vpn, content)
        }
        return accessBurst(kernel, pid, vpn, write: true)
    }

    /// A store of known contents at memory speed (memcpy, start-up data), counted as a write.
    mutating func store(_ kernel: GuestKernel, _ pid: PID, _ vpn: VPN, _ content: PageContent) -> AccessResult {
        let o = kernel.access(pid, vpn, storing: content)
        stats.references &+= 1
        stats.writes &+= 1
        chargeBurst(o)
        return o.result
    }

    /// read(2) of one file page into the user buffer at `vpn`: the page-cache read at the
    /// workload's rate, then the copy at memory speed; the buffer then holds the cached page's
    /// bytes. Returns the copy's result, or the read's when the read failed.
    mutating func read(_ kernel: GuestKernel, _ pid: PID, _ file: FileID, page: Int, into vpn: VPN) -> AccessResult {
        let (r, copy) = kernel.read(pid, file: file, page: page, into: vpn)
        stats.fileReads &+= 1
        charge(r)
        guard let w = copy else { return r.result }
        stats.references &+= 1
        stats.writes &+= 1
        chargeBurst(w)
        return w.result
    }
}
