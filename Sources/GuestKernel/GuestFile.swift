import OvercommitSupport
import PageContents

/// A file in the guest's file system (an index into the kernel's file table).
public typealias FileID = UInt16

/// A file of the guest's file system and its page-cache index (Linux's `address_space`).
public struct GuestFile {
    public var path: String
    public var pages: Int
    public var style: ContentStyle
    /// Seed of the file's original contents: equal seeds give equal bytes in every guest.
    public var contentSeed: UInt64
    /// For memory-image files: index of the image in the page generator.
    public var storedImage: Int?
    /// Per page: 0 nothing cached; `cached | pfn`; `shadow | eviction stamp` after eviction;
    /// `swapped | slot` for shmem pages living in swap.
    public var index: [UInt32] = []
    /// Pages written since boot (what is on disk now differs from the original contents).
    public var written: [Int: PageContent] = [:]
    /// Mappings of the file: (pid, region start, file offset of that start, pages).
    public var mappers: [(pid: PID, start: VPN, offset: Int, pages: Int)] = []
    /// shmem (anonymous shared memory): swap-backed instead of file-backed.
    public var isShmem: Bool = false

    public static let cachedTag: UInt32 = 1 << 31
    public static let shadowTag: UInt32 = 1 << 30
    public static let swappedTag: UInt32 = 3 << 30
    public static let tagMask: UInt32 = 3 << 30
    public static let valueMask: UInt32 = (1 << 30) - 1

    /// The contents page `i` has on disk now.
    public func diskContent(_ i: Int) -> PageContent {
        if let w = written[i] { return w }
        if let img = storedImage { return .stored(image: img, page: i) }
        if isShmem { return .zero }
        return PageContent(style: style, seed: StableHash.mix(contentSeed, UInt64(i)))
    }

    @inline(__always) public func entry(_ i: Int) -> UInt32 { index.isEmpty ? 0 : index[i] }
    @inline(__always) public func cachedFrame(_ i: Int) -> PFN? {
        let e = entry(i)
        return e & GuestFile.tagMask == GuestFile.cachedTag ? (e & GuestFile.valueMask) : nil
    }
    public mutating func setEntry(_ i: Int, _ v: UInt32) {
        if index.isEmpty { index = Array(repeating: 0, count: pages) }
        index[i] = v
    }
}
