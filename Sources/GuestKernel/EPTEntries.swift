import OvercommitSupport
import PageContents

/// The EPT entries of a guest's frames, as 3-bit values (bit 0 read, bit 1 write, bit 2
/// accessed) read from and written to `FrameFlag.eptMask` of the frame table's flags.
///
/// The EPT (Intel's extended page tables; AMD's nested page tables) is the hypervisor's
/// guest-physical to machine translation: the hardware walks it on a TLB miss and sets the
/// accessed bit; the host grants and revokes permissions. The guest kernel never reads it.
public struct EPTEntries {
    @usableFromInline let flags: UnsafeMutablePointer<UInt16>
    @inlinable init(flags: UnsafeMutablePointer<UInt16>) { self.flags = flags }

    @inlinable
    public subscript(pfn: Int) -> UInt8 {
        @inline(__always) get { UInt8(truncatingIfNeeded: (flags[pfn] & FrameFlag.eptMask) >> FrameFlag.eptShift) }
        @inline(__always) nonmutating set {
            flags[pfn] = (flags[pfn] & ~FrameFlag.eptMask) | (UInt16(newValue & 7) << FrameFlag.eptShift)
        }
    }

    /// Clears the accessed bit (`accessed`, an EPT value's bit) of frames `0..<count`;
    /// returns how many were set. Only set bits are written back, so the frames of untouched
    /// memory stay unwritten (zeroed pages the OS has not backed).
    func clearAccessed(_ accessed: UInt8, count: Int) -> Int {
        let bit = UInt16(accessed) << FrameFlag.eptShift
        var n = 0
        for i in 0..<count where flags[i] & bit != 0 {
            flags[i] &= ~bit
            n += 1
        }
        return n
    }
}
