import Hypervisor
import OvercommitSupport
import PageContents

/// What the host's sharing and compression settings are for an image analysis.
///
/// The defaults are the simulator's host defaults (`host.sharing`, `host.compression`), so
/// an analysis answers "what would this host's TPS and compression cache do with these pages".
public struct ImageAnalysisOptions: Equatable {
    /// Codecs to build a compressibility histogram for (the real libraries the host runs).
    public var codecs: [CodecKind] = CodecKind.allCases
    /// `host.compression.threshold`: a page is kept compressed only below this share of 4 KiB.
    public var threshold: Percentage = CompressionConfig().threshold
    /// `host.sharing.use_zero_pages` (KSM): zero pages map to one host-wide zero frame, never
    /// salted, counted apart from pages_shared / pages_sharing.
    public var useZeroPages: Bool = SharingConfig().use_zero_pages
    /// `host.sharing.max_page_sharing` (KSM): mappings of one shared frame before a second
    /// copy of the same content is started.
    public var maxPageSharing: Int = SharingConfig().max_page_sharing

    public init() {}

    /// The options a host with these sharing and compression settings implies.
    public init(sharing: SharingConfig, compression: CompressionConfig, codecs: [CodecKind] = CodecKind.allCases) {
        self.codecs = codecs
        threshold = compression.threshold
        useZeroPages = sharing.use_zero_pages
        maxPageSharing = sharing.max_page_sharing
    }

    /// A page is kept compressed iff its compressed size is below this many bytes: the limit
    /// the host passes to its compressor (`VirtualMachine` swap-out: 4096 x threshold).
    public var keepLimit: Int { Int(Double(pageSize) * threshold.fraction) }

    /// Problems with these options, naming the option and what is allowed.
    public func validationProblems() -> [String] {
        var p: [String] = []
        if codecs.isEmpty { p.append("codecs: at least one codec is needed; allowed: \(CompressionConfig.codecNames.joined(separator: ", "))") }
        if !(threshold.fraction > 0 && threshold.fraction <= 1) { p.append("threshold: must be above 0% and at most 100%; got \(threshold)") }
        // KSM's max_page_sharing_store() (mm/ksm.c) takes any int of at least 2.
        if !(2...Int(Int32.max)).contains(maxPageSharing) {
            p.append("max-page-sharing: must be between 2 and \(Int32.max) (KSM's sysfs accepts an int of at least 2); got \(maxPageSharing)")
        }
        return p
    }
}

/// Transparent page sharing reached on a set of pages once the scanner has converged.
///
/// Counters as Linux KSM reports them (`/sys/kernel/mm/ksm`): `pagesShared` distinct shared
/// frames in use, `pagesSharing` the guest pages mapped onto them beyond the first (= frames
/// saved), `zeroPagesSharing` pages mapped to the host zero frame (KSM `use_zero_pages`,
/// ESX's zero-page sharing; each saves a frame, none is counted in the two others).
public struct TPSEstimate: Equatable, Sendable {
    public var pagesShared = 0
    public var pagesSharing = 0
    public var zeroPagesSharing = 0
    /// Hash matches whose 4096 bytes differed (the byte comparison refused to merge them).
    public var falseMatches = 0

    public init() {}

    /// Frames saved: `pagesSharing + zeroPagesSharing`.
    public var savedPages: Int { pagesSharing + zeroPagesSharing }

    /// Adds the frames and extra mappings `n` identical pages reach under KSM's
    /// `max_page_sharing`: full frames of `limit` mappings, then one frame for a rest of two or
    /// more; a single leftover page finds no partner and stays private (it sits in the
    /// unstable tree), exactly what `PageSharing` does when a frame's mappings reach the limit.
    mutating func addGroup(of n: Int, limit: Int) {
        let full = n / limit, rest = n % limit
        let frames = full + (rest >= 2 ? 1 : 0)
        pagesShared += frames
        pagesSharing += n - frames - (rest == 1 ? 1 : 0)
    }

    static func + (a: TPSEstimate, b: TPSEstimate) -> TPSEstimate {
        var s = TPSEstimate()
        s.pagesShared = a.pagesShared + b.pagesShared
        s.pagesSharing = a.pagesSharing + b.pagesSharing
        s.zeroPagesSharing = a.zeroPagesSharing + b.zeroPagesSharing
        s.falseMatches = a.falseMatches + b.falseMatches
        return s
    }
}

/// What one codec does with the non-zero pages of the images.
///
/// Compressed sizes are the codec's true output for each page (`PageCodec.compressedSize`,
/// the same library call the host's compressor makes); a page is kept when the size is below
/// `ImageAnalysisOptions.keepLimit` (ESX keeps pages under 2 KiB in its compression cache).
public struct CodecFigures: Equatable, Sendable {
    public var codec: CodecKind
    /// Pages compressed (every non-zero page; zero pages are reported apart).
    public var pages = 0
    /// Pages per compressed-size bucket: below 512 B, 1 KiB, 2 KiB, 3 KiB, 4 KiB, and
    /// 4 KiB or more (incompressible: the output is not smaller than the page).
    public var buckets: [Int] = Array(repeating: 0, count: CodecFigures.bucketLimits.count + 1)
    /// Pages below the keep limit.
    public var keptPages = 0
    /// Sum of the compressed sizes of the kept pages.
    public var keptBytes = 0
    /// Bytes the kept pages occupy in the host's compression cache (sizes rounded up to 16
    /// bytes, as `CompressionCache` and zsmalloc's size classes do).
    public var cacheBytes = 0

    /// Upper bounds (exclusive) of the histogram buckets; the last bucket is everything else.
    public static let bucketLimits = [512, 1024, 2048, 3072, 4096]

    public init(codec: CodecKind) { self.codec = codec }

    /// Share of the compressed pages that are kept.
    public var keptFraction: Double { pages == 0 ? 0 : Double(keptPages) / Double(pages) }
    /// Compression ratio of the kept pages: their 4 KiB each over their compressed bytes.
    public var keptRatio: Double { keptBytes == 0 ? 0 : Double(keptPages * pageSize) / Double(keptBytes) }
    /// Frames the kept pages free once in the cache: their pages minus the cache's frames.
    public var savedPages: Int { keptPages - (cacheBytes + pageSize - 1) / pageSize }
}

/// Figures of one image.
public struct ImageFigures: Equatable, Sendable {
    public var name: String
    /// Bytes of the file (before padding).
    public var byteCount: Int
    /// 4 KiB pages, the last one zero-padded.
    public var pages: Int
    /// Zero bytes added to complete the last page (0 for a page-aligned image).
    public var paddingBytes: Int { pages * pageSize - byteCount }
    /// All-zero pages.
    public var zeroPages = 0
    /// Non-zero pages whose 8-byte words are all equal (zswap's same-filled pages).
    public var sameFilledPages = 0
    /// Distinct page contents in the image (the zero page counted once if present).
    public var distinctContents = 0
    /// Non-zero pages whose content occurs at least twice in this image.
    public var duplicateInImagePages = 0
    /// Non-zero pages whose content also occurs in another image of the set.
    public var duplicateInOtherImagesPages = 0
    /// Sharing inside this image alone (what ESX salting, one salt per VM, leaves).
    public var salted = TPSEstimate()

    /// "raw", or "elf-core" with its PT_LOAD segments, the program headers that held no
    /// memory, and the address ranges the segments cover (adjacent ones merged), guest-physical
    /// for a VM dump or virtual for a process core (`addressSpace`).
    public var format = "raw"
    public var segments = 1
    public var skippedHeaders = 0
    public var addressSpace = ""
    public var ranges: [String] = []

    public init(name: String, byteCount: Int, pages: Int) {
        self.name = name; self.byteCount = byteCount; self.pages = pages
    }
}

/// Zero pages, duplicate pages, TPS savings and compressibility of a set of raw memory images,
/// computed with the simulator's own primitives.
///
/// Every page is hashed with XXH3-64 (`PageHash`, salt 0 for sharing across images, and the
/// image's ESX salt for sharing within it) and declared identical to another only after a
/// full 4096-byte comparison (`PageCompare.equal`), as `PageSharing` merges pages. Zero pages
/// are detected as the scanner does (the zero page's hash, then `PageCompare.isZero`).
/// Compressed sizes come from the real codecs (`CodecKind.make()`), once per distinct content.
/// The result is what the KSM scanner converges to on guests whose memory holds these pages
/// (the test suite checks it against `PageSharing` on a simulated host).
public struct ImageAnalysis: Equatable, Sendable {
    public var options: ImageAnalysisOptionsSummary
    public var images: [ImageFigures]
    /// Pages of all images together.
    public var pages = 0
    public var zeroPages = 0
    /// Distinct page contents over all images (the zero page counted once if present).
    public var distinctContents = 0
    /// Sharing across all images (`Mem.ShareForceSalting` 0, or KSM: one salt for everyone).
    public var unsalted = TPSEstimate()
    /// Sharing only inside each image (`Mem.ShareForceSalting` 2, a distinct salt per VM):
    /// the sum of the images' `salted`, zero pages still going to the one zero frame.
    public var salted = TPSEstimate()
    public var codecs: [CodecFigures] = []

    /// The options an analysis ran with, as reported.
    public struct ImageAnalysisOptionsSummary: Equatable, Sendable {
        public var codecs: [CodecKind]
        public var threshold: Percentage
        public var keepLimit: Int
        public var useZeroPages: Bool
        public var maxPageSharing: Int
    }

    /// Analyses `images` in order. `progress` is called with (pages done, pages in all) about
    /// every 16384 pages and at the end.
    public static func analyze<I: ImageAnalysisInput>(
        _ images: [I], options: ImageAnalysisOptions = ImageAnalysisOptions(),
        progress: ((Int, Int) -> Void)? = nil
    ) -> ImageAnalysis {
        var a = Analyzer(images: images, options: options)
        return a.run(progress: progress)
    }
}

/// The single pass behind `ImageAnalysis.analyze`: flat arrays per content group, hash
/// indexes for lookups only (never iterated), so the result does not depend on hash order.
private struct Analyzer<I: ImageAnalysisInput> {
    let images: [I]
    let options: ImageAnalysisOptions
    let codecs: [any PageCodec]
    let limit: Int

    // Global content groups (pages equal byte for byte across all images).
    var index: [UInt64: Int32] = [:]
    var next: [Int32] = []
    var repImage: [Int32] = []
    var repPage: [Int] = []
    var total: [Int32] = []
    var imagesWith: [Int32] = []
    var lastImage: [Int32] = []
    var inImage: [Int32] = []
    var sizes: [[UInt16]]
    var zeroGroup: Int32 = -1

    init(images: [I], options: ImageAnalysisOptions) {
        self.images = images
        self.options = options
        codecs = options.codecs.map { $0.make() }
        limit = options.keepLimit
        sizes = Array(repeating: [], count: options.codecs.count)
    }

    /// The group of content `p` (hash `h`) among groups chained from `index[h]`, or nil;
    /// counts byte comparisons that failed as false matches.
    func find(_ p: UnsafeRawPointer, head: Int32?, chain: [Int32], rep: (Int32) -> (Int, Int), falseMatches: inout Int) -> Int32? {
        var g = head ?? -1
        while g >= 0 {
            let (img, page) = rep(g)
            if images[img].withPage(page, { PageCompare.equal(p, $0) }) { return g }
            falseMatches += 1
            g = chain[Int(g)]
        }
        return nil
    }

    mutating func run(progress: ((Int, Int) -> Void)?) -> ImageAnalysis {
        var result = ImageAnalysis(
            options: .init(
                codecs: options.codecs, threshold: options.threshold, keepLimit: limit,
                useZeroPages: options.useZeroPages, maxPageSharing: options.maxPageSharing),
            images: [])
        var figures = options.codecs.map { CodecFigures(codec: $0) }
        let allPages = images.reduce(0) { $0 + $1.pageCount }
        let zeroHash = withUnsafeTemporaryAllocation(byteCount: pageSize, alignment: 16) { buf -> UInt64 in
            buf.initializeMemory(as: UInt8.self, repeating: 0)
            return PageHash.xxh3(UnsafeRawPointer(buf.baseAddress!))
        }
        var done = 0
        // Per image: (group, pages of it in the image), to find contents met in other images.
        var occurrences: [[(group: Int32, count: Int32)]] = []

        for (ii, image) in images.enumerated() {
            var fig = ImageFigures(name: image.name, byteCount: image.byteCount, pages: image.pageCount)
            if let l = image.layout {
                fig.format = l.format.rawValue
                fig.segments = l.segments.count
                fig.skippedHeaders = l.skippedHeaders
                if l.format == .elfCore { fig.addressSpace = l.addressSpace; fig.ranges = l.addressRanges }
            }
            let salt = HostMemory.salt(vmName: image.name, setting: nil, mode: 2)
            let saltedZeroHash = withUnsafeTemporaryAllocation(byteCount: pageSize, alignment: 16) { buf -> UInt64 in
                buf.initializeMemory(as: UInt8.self, repeating: 0)
                return PageHash.xxh3(UnsafeRawPointer(buf.baseAddress!), salt: salt)
            }
            // Groups inside this image, found through the salted hash (the scanner's stable
            // tree of a salted VM only ever holds that VM's pages).
            var localIndex: [UInt64: Int32] = [:]
            var localNext: [Int32] = []
            var localRep: [Int] = []
            var localCount: [Int32] = []
            var localZero: Int32 = -1
            var imageGroups: [Int32] = []
            var globalFalse = 0, localFalse = 0

            for page in 0..<image.pageCount {
                image.withPage(page) { p in
                    let h = PageHash.xxh3(p)
                    let hs = PageHash.xxh3(p, salt: salt)
                    let isZero = h == zeroHash && PageCompare.isZero(p)
                    if isZero {
                        fig.zeroPages += 1
                        if options.useZeroPages { return }
                    } else if options.useZeroPages {
                        if h == zeroHash { globalFalse += 1 }
                        if hs == saltedZeroHash { localFalse += 1 }
                    }
                    // Across all images: unsalted hash, then the bytes.
                    let head = index[h]
                    let g: Int32
                    if let found = find(p, head: head, chain: next, rep: { (Int(repImage[Int($0)]), repPage[Int($0)]) }, falseMatches: &globalFalse) {
                        g = found
                    } else {
                        g = Int32(total.count)
                        next.append(head ?? -1)
                        index[h] = g
                        repImage.append(Int32(ii)); repPage.append(page)
                        total.append(0); imagesWith.append(0); lastImage.append(-1); inImage.append(0)
                        if isZero {
                            zeroGroup = g
                            for c in sizes.indices { sizes[c].append(0) }
                        } else {
                            for (c, codec) in codecs.enumerated() { sizes[c].append(UInt16(codec.compressedSize(p))) }
                        }
                    }
                    total[Int(g)] += 1
                    if lastImage[Int(g)] != Int32(ii) {
                        lastImage[Int(g)] = Int32(ii); imagesWith[Int(g)] += 1; inImage[Int(g)] = 0
                        imageGroups.append(g)
                    }
                    inImage[Int(g)] += 1
                    // Inside this image: its salted hash, then the bytes.
                    let lhead = localIndex[hs]
                    if let lg = find(p, head: lhead, chain: localNext, rep: { (ii, localRep[Int($0)]) }, falseMatches: &localFalse) {
                        localCount[Int(lg)] += 1
                    } else {
                        let lg = Int32(localCount.count)
                        localNext.append(lhead ?? -1)
                        localIndex[hs] = lg
                        localRep.append(page)
                        localCount.append(1)
                        if isZero { localZero = lg }
                    }
                    if isZero { return }
                    if PageCompare.isSameFilled(p) != nil { fig.sameFilledPages += 1 }
                    for c in figures.indices {
                        let s = Int(sizes[c][Int(g)])
                        figures[c].pages += 1
                        figures[c].buckets[CodecFigures.bucketLimits.firstIndex { s < $0 } ?? CodecFigures.bucketLimits.count] += 1
                        if s < limit {
                            figures[c].keptPages += 1
                            figures[c].keptBytes += s
                            figures[c].cacheBytes += (s + 15) & ~15
                        }
                    }
                }
                done += 1
                if let progress, done & 16383 == 0 { progress(done, allPages) }
            }

            fig.distinctContents = localCount.count + (options.useZeroPages && fig.zeroPages > 0 ? 1 : 0)
            for (lg, n) in localCount.enumerated() {
                fig.salted.addGroup(of: Int(n), limit: options.maxPageSharing)
                if Int32(lg) != localZero && n >= 2 { fig.duplicateInImagePages += Int(n) }
            }
            if options.useZeroPages { fig.salted.zeroPagesSharing = fig.zeroPages }
            fig.salted.falseMatches = localFalse
            result.unsalted.falseMatches += globalFalse
            occurrences.append(imageGroups.map { ($0, inImage[Int($0)]) })
            result.images.append(fig)
        }

        for (ii, occ) in occurrences.enumerated() {
            for (g, n) in occ where g != zeroGroup && imagesWith[Int(g)] >= 2 {
                result.images[ii].duplicateInOtherImagesPages += Int(n)
            }
        }
        for n in total { result.unsalted.addGroup(of: Int(n), limit: options.maxPageSharing) }
        result.pages = allPages
        result.zeroPages = result.images.reduce(0) { $0 + $1.zeroPages }
        if options.useZeroPages { result.unsalted.zeroPagesSharing = result.zeroPages }
        result.distinctContents = total.count + (options.useZeroPages && result.zeroPages > 0 ? 1 : 0)
        result.salted = result.images.reduce(TPSEstimate()) { $0 + $1.salted }
        result.codecs = figures
        progress?(allPages, allPages)
        return result
    }
}
