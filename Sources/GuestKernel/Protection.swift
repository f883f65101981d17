import OvercommitSupport
import PageContents

/// Memory protection of a region (PROT_READ, PROT_WRITE, PROT_EXEC).
public struct Protection: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let read = Protection(rawValue: 1)
    public static let write = Protection(rawValue: 2)
    public static let exec = Protection(rawValue: 4)
    public static let readWrite: Protection = [.read, .write]
    public static let readExec: Protection = [.read, .exec]
}
