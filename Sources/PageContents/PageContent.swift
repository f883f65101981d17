import OvercommitSupport

/// The size of a base page, as on x86-64 and every hypervisor modelled here.
public let pageSize = 4096
/// log2 of `pageSize`.
public let pageShift = 12

/// What a page of a given style looks like, which decides how well it compresses.
///
/// Styles follow what memory-image studies find in real guests: zero pages dominate,
/// then code and text, pointer-rich heaps, sparse structures and incompressible data.
public enum ContentStyle: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    /// All zero bytes (the zero page).
    case zero = 0
    /// Machine code: x86-like instruction bytes (OS image, shared libraries, binaries).
    case code = 1
    /// ASCII text: configuration files, logs, HTML.
    case text = 2
    /// Uniformly random bytes (encrypted or already-compressed data): incompressible.
    case random = 3
    /// Mostly zero with a few scattered words (fresh heap, sparse arrays).
    case sparse = 4
    /// 64-bit pointers and small integers (linked structures, object heaps).
    case pointers = 5
    /// One 64-bit word repeated over the page (zswap's same-filled pages).
    case pattern = 6
    /// Bytes loaded from a raw memory image; the seed names the image and the page.
    case stored = 7

    public var description: String {
        switch self {
        case .zero: "zero";
        case .code: "code";
        case .text: "text";
        case .random: "random"
        case .sparse: "sparse";
        case .pointers: "pointers";
        case .pattern: "pattern";
        case .stored: "stored"
        }
    }
}

extension ContentStyle: Codable {
    /// Looks a style up by its name (`code`, `text`, ...).
    public init?(name: String) {
        guard let s = ContentStyle.allCases.first(where: { $0.description == name }) else { return nil }
        self = s
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let n = try c.decode(String.self)
        guard let s = ContentStyle(name: n) else {
            throw DecodingError.dataCorruptedError(
                in: c,
                debugDescription:
                    "unknown content style '\(n)'; allowed: " + ContentStyle.allCases.map(\.description).joined(separator: ", "))
        }
        self = s
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

extension ContentStyle: PlainParameterValue {
    /// The styles a scenario may write (`stored` belongs to memory images only).
    public static let writableStyles: [ContentStyle] = ContentStyle.allCases.filter { $0 != .stored }
    public static var parameterKind: ParameterKind { .choice(writableStyles.map(\.description)) }
    public var parameterText: String { description }
}

/// A compact descriptor from which a page's 4 KiB contents are produced on demand.
///
/// Eight bytes per page instead of 4096: the top 8 bits are the `ContentStyle`, the low
/// 56 bits a seed. Equal descriptors always produce equal bytes (so pages of the same OS
/// image or the same file are identical across guests); different seeds produce different
/// bytes except by the style's own nature (every `zero` page is the same). The host's
/// sharing and compression code never looks at descriptors, only at produced bytes.
public struct PageContent: Hashable, Sendable, CustomStringConvertible {
    public var raw: UInt64
    @inlinable public init(raw: UInt64) { self.raw = raw }

    /// The all-zero page.
    public static let zero = PageContent(raw: 0)

    /// The marker left in guest-physical memory while the host holds a page's contents
    /// elsewhere (compression cache, host swap): reading it is a bug that verification catches.
    public static let hostHeld = PageContent(style: .pattern, seed: 0x00DE_AD0F_F11E_D0FF)

    public static let seedMask: UInt64 = (1 << 56) - 1

    @inlinable
    public init(style: ContentStyle, seed: UInt64) {
        raw = style == .zero ? 0 : (UInt64(style.rawValue) << 56) | (seed & PageContent.seedMask)
    }

    /// A page of a stored memory image: `image` indexes the generator's image list.
    public static func stored(image: Int, page: Int) -> PageContent {
        PageContent(style: .stored, seed: (UInt64(image) << 40) | UInt64(page))
    }

    @inlinable public var style: ContentStyle { ContentStyle(rawValue: UInt8(raw >> 56)) ?? .random }
    @inlinable public var seed: UInt64 { raw & PageContent.seedMask }
    @inlinable public var isZero: Bool { raw == 0 }

    /// For `.stored` pages: which image and which page of it.
    @inlinable public var storedLocation: (image: Int, page: Int) {
        (Int(seed >> 40), Int(seed & ((1 << 40) - 1)))
    }

    public var description: String { "\(style):\(String(seed, radix: 16))" }
}
