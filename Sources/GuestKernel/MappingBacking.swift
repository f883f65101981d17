import OvercommitSupport
import PageContents

/// What backs a region: anonymous memory or a file (through the page cache).
public enum MappingBacking: Sendable, Hashable {
    case anonymous
    /// A file mapping starting at `offset` pages into the file.
    case file(FileID, offset: Int)
}
