import PageContents

/// The page accounting of a zsmalloc pool (Linux mm/zsmalloc.c), the allocator behind zswap
/// (its default zpool since 6.3) and zram: how many guest pages the stored objects occupy.
///
/// zsmalloc sorts objects into size classes 16 bytes apart (`ZS_SIZE_CLASS_DELTA`, from
/// `ZS_MIN_ALLOC_SIZE` 32 to a page); each class packs its objects into zspages of 1 to 4
/// pages (`ZS_MAX_PAGES_PER_ZSPAGE`), the count that wastes least (`get_pages_per_zspage`,
/// as before Linux 6.3 made the chain size configurable); classes with the same zspage
/// geometry are merged into the larger one, as `zs_create_pool` does. An object carries its
/// 8-byte handle (`ZS_HANDLE_SIZE`). A class's pages are its zspages: ceil(objects /
/// objects per zspage) x pages per zspage, as after `zs_compact` (free objects compacted
/// out of partly used zspages at once; Linux compacts from its shrinker, later).
public struct ZsmallocPool: Sendable, Equatable {
    static let minAllocSize = 32
    static let classDelta = 16
    static let handleSize = 8
    static let maxPagesPerZspage = 4
    /// `zs_size_classes`: 32, 48, ..., 4096 bytes.
    static let classCount = (pageSize - minAllocSize + classDelta - 1) / classDelta + 1

    /// Per class index: the size, pages per zspage and objects per zspage, and the class its
    /// objects really go to after merging.
    static let geometry: [(size: Int, pages: Int, objects: Int)] = (0..<classCount).map { i in
        let size = min(minAllocSize + i * classDelta, pageSize)
        var best = 0, bestPages = 1
        for pages in 1...maxPagesPerZspage {
            let zspage = pages * pageSize
            let used = (zspage - zspage % size) * 100 / zspage
            if used > best { best = used; bestPages = pages }
        }
        return (size, bestPages, bestPages * pageSize / size)
    }
    static let mergedClass: [Int] = {
        var out = [Int](repeating: 0, count: classCount)
        var prev = classCount - 1
        for i in stride(from: classCount - 1, through: 0, by: -1) {
            let g = geometry[i], p = geometry[prev]
            if i != prev && g.pages == p.pages && g.objects == p.objects { out[i] = out[prev] } else { out[i] = i }
            prev = i
        }
        return out
    }()
    /// zsmalloc's `huge_class_size`: the largest size of a class that shares its zspages,
    /// less the handle's extra bytes; zram stores a page whose compressed length reaches it
    /// uncompressed (3257 bytes with 4 KiB pages).
    public static let hugeClassSize: Int = {
        for i in stride(from: classCount - 1, through: 0, by: -1) where geometry[i].pages != 1 && geometry[i].objects != 1 {
            return geometry[i].size - (handleSize - 1)
        }
        return pageSize
    }()

    /// Objects stored per (merged) class.
    private var objects = [Int](repeating: 0, count: classCount)
    /// Guest pages the pool occupies.
    public private(set) var pages = 0
    /// Objects stored.
    public private(set) var count = 0

    public init() {}

    /// The class an object of `length` bytes (its handle added) is stored in.
    static func classIndex(length: Int) -> Int {
        let size = length + handleSize
        let i = size <= minAllocSize ? 0 : (size - minAllocSize + classDelta - 1) / classDelta
        return mergedClass[min(i, classCount - 1)]
    }

    private static func pages(_ c: Int, objects n: Int) -> Int {
        let g = geometry[c]
        return (n + g.objects - 1) / g.objects * g.pages
    }

    /// The pool's pages once an object of `length` bytes is added.
    public func pagesAfterAdding(length: Int) -> Int {
        let c = ZsmallocPool.classIndex(length: length)
        return pages - ZsmallocPool.pages(c, objects: objects[c]) + ZsmallocPool.pages(c, objects: objects[c] + 1)
    }

    /// Stores an object of `length` bytes (`zs_malloc`).
    public mutating func add(length: Int) {
        let c = ZsmallocPool.classIndex(length: length)
        pages -= ZsmallocPool.pages(c, objects: objects[c])
        objects[c] += 1
        pages += ZsmallocPool.pages(c, objects: objects[c])
        count += 1
    }

    /// Frees an object of `length` bytes (`zs_free`).
    public mutating func remove(length: Int) {
        let c = ZsmallocPool.classIndex(length: length)
        precondition(objects[c] > 0, "zsmalloc: freeing an object of a class that holds none")
        pages -= ZsmallocPool.pages(c, objects: objects[c])
        objects[c] -= 1
        pages += ZsmallocPool.pages(c, objects: objects[c])
        count -= 1
    }
}
