/// A page-table entry, packed in 32 bits as x86-64 packs its PTEs in 64.
///
/// Layout: bit 31 present; bit 30 writable; when present, bit 28 is the hardware accessed
/// ("young") bit, bit 27 says the host side of the translation is cached as read/write (as a
/// TLB caches the combined guest-virtual to host-physical translation), and bits 0-26 hold
/// the PFN. When not present and bit 29 is set, bits 0-28 hold a swap slot (a swap entry,
/// Linux's `swp_entry_t`). Zero means no entry (never touched, or unmapped).
public struct PTE: Equatable, Sendable {
    public var raw: UInt32
    @inlinable public init(raw: UInt32) { self.raw = raw }

    public static let none = PTE(raw: 0)
    public static let presentBit: UInt32 = 1 << 31
    public static let writableBit: UInt32 = 1 << 30
    public static let swapBit: UInt32 = 1 << 29
    /// The accessed bit the MMU sets on every access (harvested by reclaim through the rmap).
    public static let youngBit: UInt32 = 1 << 28
    /// The host's EPT entry for the frame grants read/write: no need to consult it.
    public static let hostBit: UInt32 = 1 << 27
    public static let pfnMask: UInt32 = (1 << 27) - 1
    /// Largest number of guest-physical frames a PTE can name (512 GiB).
    public static let maxFrames = 1 << 27
    public static let slotMask: UInt32 = (1 << 29) - 1

    @inlinable public static func present(_ pfn: PFN, writable: Bool) -> PTE {
        PTE(raw: presentBit | (writable ? writableBit : 0) | (pfn & pfnMask))
    }
    @inlinable public static func swap(_ slot: UInt32) -> PTE { PTE(raw: swapBit | (slot & slotMask)) }

    @inlinable public var isNone: Bool { raw == 0 }
    @inlinable public var isPresent: Bool { raw & PTE.presentBit != 0 }
    @inlinable public var isWritable: Bool { raw & PTE.writableBit != 0 }
    @inlinable public var isSwap: Bool { raw & (PTE.presentBit | PTE.swapBit) == PTE.swapBit }
    @inlinable public var pfn: PFN { raw & PTE.pfnMask }
    @inlinable public var slot: UInt32 { raw & PTE.slotMask }
}
