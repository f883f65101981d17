#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed-size buffer of `count` values, all zero at first, allocated by the C library's
/// `calloc`: large buffers come from fresh anonymous mappings, whose pages the OS backs only
/// when they are first written (Linux's own lazy allocation and zero page). Per-page state
/// whose initial value is zero therefore costs memory for the pages a guest touches, not for
/// the memory it is configured with. A class: copies share the buffer.
///
/// `Element` must be a plain value type whose all-zero bit pattern is a valid value (integers,
/// structs of integers).
public final class ZeroedBuffer<Element> {
    public let base: UnsafeMutablePointer<Element>
    public let count: Int

    /// A buffer of `count` zeros; with `hugePages`, the OS is asked to back it with 2 MiB
    /// pages (`HugePages.advise`) for a buffer read at random on a hot path.
    public init(count: Int, hugePages: Bool = false) {
        let n = Swift.max(1, count)
        guard let raw = calloc(n, MemoryLayout<Element>.stride) else { fatalError("out of memory for \(count) zeroed values") }
        base = raw.bindMemory(to: Element.self, capacity: n)
        self.count = count
        if hugePages { HugePages.advise(raw, bytes: n * MemoryLayout<Element>.stride) }
    }

    deinit { free(base) }

    /// Bytes of address space the buffer spans (resident only where written).
    public var bytes: Int { count * MemoryLayout<Element>.stride }

    @inlinable @inline(__always)
    public subscript(i: Int) -> Element {
        get { base[i] }
        set { base[i] = newValue }
    }
}
