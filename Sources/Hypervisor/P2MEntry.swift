import OvercommitSupport

/// Where one guest-physical page lives, as the VM's p2m map says: the typed view of a
/// 4-byte entry of `P2MMap`.
///
/// ESXi and KVM keep this per guest page (ESX's "pframe", the backing of a KVM memslot page):
/// lazily backed memory starts unbacked; a page is then backed by a private machine frame,
/// mapped to a shared frame, kept compressed, or swapped to the VM's swap file.
enum P2MEntry: Equatable {
    /// Never touched, or given to the balloon: no machine memory behind it.
    case unbacked
    /// Touched after the host ran out of memory (host out-of-memory): counted, not backed.
    case overdraft
    /// A private machine frame (its number).
    case machine(UInt32)
    /// A shared frame (its `SharedFrames` node; node 0 is the host zero frame).
    case shared(node: UInt32)
    /// In the VM's compression cache (its entry).
    case compressed(entry: UInt32)
    /// In the VM's host swap file (its slot).
    case swapped(slot: UInt32)
}

/// The p2m map of one VM: guest-physical page to `P2MEntry`, packed in 4 bytes per page.
///
/// The top two bits are the state (private, shared, compressed, swapped) and the other 30
/// the frame, node, entry or slot; the two largest values of the swapped range stand for
/// unbacked and overdraft. Reads and writes go through the typed `P2MEntry`. Every write
/// that backs a page with a private frame also makes it a host-paging candidate (`victims`),
/// so no path that backs a page can forget to.
struct P2MMap {
    /// The entries, stored XOR-ed with `unbackedRaw` so that the zeroed buffer reads as all
    /// unbacked and untouched guest memory costs no resident memory (`ZeroedBuffer`).
    private let raw: ZeroedBuffer<UInt32>
    /// The pages host paging may pick from (see `HostVictimSet`).
    var victims: HostVictimSet

    static let unbackedRaw: UInt32 = .max
    static let overdraftRaw: UInt32 = .max - 1
    static let valueMask: UInt32 = (1 << 30) - 1
    static let tagMask: UInt32 = 3 << 30
    static let privateTag: UInt32 = 0
    static let sharedTag: UInt32 = 1 << 30
    static let compressedTag: UInt32 = 2 << 30
    static let swappedTag: UInt32 = 3 << 30
    /// Largest value an entry may carry (the top of the swapped range is reserved).
    static let maxValue = Int(valueMask) - 16

    /// `pages` unbacked entries; `victimRNG` is the stream host paging draws victims from.
    init(pages: Int, victimRNG: Xoshiro256 = Xoshiro256(seed: 0)) {
        raw = ZeroedBuffer(count: pages)
        victims = HostVictimSet(pages: pages, rng: victimRNG)
    }

    var count: Int { raw.count }
    /// Bytes of simulator memory the map holds (with its victim set).
    var capacityBytes: Int { raw.bytes + victims.capacityBytes }

    @inline(__always)
    subscript(i: Int) -> P2MEntry {
        get { P2MMap.decode(raw[i] ^ P2MMap.unbackedRaw) }
        set {
            let v = P2MMap.encode(newValue)
            raw[i] = v ^ P2MMap.unbackedRaw
            if v & P2MMap.tagMask == P2MMap.privateTag { victims.insert(i) }
        }
    }

    /// Whether page `i` is backed by a private machine frame (the test victim and candidate
    /// loops make on every page they visit).
    @inline(__always)
    func isPrivate(_ i: Int) -> Bool { (raw[i] ^ P2MMap.unbackedRaw) & P2MMap.tagMask == P2MMap.privateTag }

    @inline(__always)
    static func decode(_ v: UInt32) -> P2MEntry {
        let value = v & valueMask
        switch v & tagMask {
        case privateTag: return .machine(value)
        case sharedTag: return .shared(node: value)
        case compressedTag: return .compressed(entry: value)
        default:
            if v == unbackedRaw { return .unbacked }
            if v == overdraftRaw { return .overdraft }
            return .swapped(slot: value)
        }
    }

    @inline(__always)
    static func encode(_ e: P2MEntry) -> UInt32 {
        switch e {
        case .unbacked: return unbackedRaw
        case .overdraft: return overdraftRaw
        case .machine(let m): return privateTag | m
        case .shared(let n): return sharedTag | n
        case .compressed(let c): return compressedTag | c
        case .swapped(let s): return swappedTag | s
        }
    }
}
