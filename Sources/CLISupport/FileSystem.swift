#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a path names, as lstat(2) (or stat(2) when following links) reports it.
public enum FileKind: Sendable, Equatable {
    case regular, directory, symbolicLink, fifo, characterDevice, blockDevice, socket, other

    /// The kind with its article, for messages: "a directory", "a FIFO (named pipe)".
    public var noun: String {
        switch self {
        case .regular: "a regular file"
        case .directory: "a directory"
        case .symbolicLink: "a symbolic link"
        case .fifo: "a FIFO (named pipe)"
        case .characterDevice: "a character device"
        case .blockDevice: "a block device"
        case .socket: "a socket"
        case .other: "a special file"
        }
    }

    init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symbolicLink
        case S_IFIFO: self = .fifo
        case S_IFCHR: self = .characterDevice
        case S_IFBLK: self = .blockDevice
        case S_IFSOCK: self = .socket
        default: self = .other
        }
    }
}

/// The few POSIX file operations the command line needs, with failures turned into
/// `CLIProblem`s that name the path and the reason in words (strerror(3)).
public enum FileSystem {
    /// strerror(3) text with a lower-case first letter, to sit inside a sentence:
    /// "no such file or directory", "permission denied", "read-only file system".
    public static func reason(_ code: Int32) -> String {
        let s = String(cString: strerror(code))
        guard let f = s.first else { return "error \(code)" }
        return f.lowercased() + s.dropFirst()
    }

    /// What `path` names, or nil when nothing is there (or it cannot be examined).
    /// `followingLinks` looks through a symbolic link at its target (stat instead of lstat).
    public static func kind(_ path: String, followingLinks: Bool = false) -> FileKind? {
        var st = stat()
        let r = followingLinks ? stat(path, &st) : lstat(path, &st)
        return r == 0 ? FileKind(mode: st.st_mode) : nil
    }

    /// The canonical absolute path (symbolic links, `.` and `..` resolved), or nil when the
    /// path does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// The current working directory, canonical.
    public static func currentDirectory() -> String {
        guard let p = getcwd(nil, 0) else { return "." }
        defer { free(p) }
        return realPath(String(cString: p)) ?? String(cString: p)
    }

    /// Whether `inner` is `outer` or lies below it (both canonical absolute paths).
    public static func isSameOrInside(_ inner: String, _ outer: String) -> Bool {
        if inner == outer || outer == "/" { return true }
        return inner.hasPrefix(outer.hasSuffix("/") ? outer : outer + "/")
    }

    /// `path` without trailing slashes (`runs/x/` is `runs/x`; `/` stays `/`).
    public static func trimmingTrailingSlashes(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.last == "/" { p = p.dropLast() }
        return String(p)
    }

    /// The folder part of a path, as dirname(1): `a/b` -> `a`, `b` -> `.`, `/b` -> `/`.
    public static func parent(_ path: String) -> String {
        let p = trimmingTrailingSlashes(path)
        guard let slash = p.lastIndex(of: "/") else { return "." }
        if slash == p.startIndex { return "/" }
        return trimmingTrailingSlashes(String(p[..<slash]))
    }

    /// The names in a directory (without `.` and `..`), sorted.
    public static func entries(ofDirectory path: String) throws(CLIProblem) -> [String] {
        guard let d = opendir(path) else { throw CLIProblem("cannot list '\(path)': \(reason(errno))") }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Every byte of `path` (`-` is standard input). Reads through read(2) until the end, so
    /// pipes, FIFOs and process substitutions (`<(...)`) work as well as regular files.
    /// `what` names the file in messages ("the scenario file", "the trace").
    public static func readAll(_ path: String, what: String) throws(CLIProblem) -> [UInt8] {
        if path == "-" { return try readAll(fd: 0, label: "<stdin>", what: what) }
        if path.isEmpty { throw CLIProblem("\(what): the path is empty (an unset shell variable?)") }
        switch kind(path, followingLinks: true) {
        case nil:
            let code = errno
            if kind(path) == .symbolicLink { throw CLIProblem("\(path): \(what) is a symbolic link to a file that does not exist") }
            throw CLIProblem("\(path): cannot read \(what): \(reason(code))")
        case .directory?:
            throw CLIProblem("\(path): is a directory, not \(what)")
        default:
            break
        }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CLIProblem("\(path): cannot read \(what): \(reason(errno))") }
        defer { close(fd) }
        return try readAll(fd: fd, label: path, what: what)
    }

    static func readAll(fd: Int32, label: String, what: String) throws(CLIProblem) -> [UInt8] {
        var st = stat()
        let size = fstat(fd, &st) == 0 && FileKind(mode: st.st_mode) == .regular ? Int(st.st_size) : 0
        var out: [UInt8] = []
        out.reserveCapacity(size + 1)
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, chunk) }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                if code == EISDIR { throw CLIProblem("\(label): is a directory, not \(what)") }
                throw CLIProblem("\(label): cannot read \(what): \(reason(code))")
            }
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    /// The UTF-8 text of `path` (`readAll`, then `utf8Text`).
    public static func readText(_ path: String, what: String) throws(CLIProblem) -> String {
        try utf8Text(try readAll(path, what: what), path: path == "-" ? "<stdin>" : path, what: what)
    }

    /// Decodes UTF-8 text; a byte sequence that is not UTF-8 is reported with its line and
    /// column ("not UTF-8 text: byte 0xff at line 3, column 7").
    public static func utf8Text(_ bytes: [UInt8], path: String, what: String) throws(CLIProblem) -> String {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0, line = 1, lineStart = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1, encoded.first == 0x0A { line += 1; lineStart = offset + 1 }
                offset += encoded.count
            case .emptyInput:
                return String(decoding: bytes, as: UTF8.self)
            case .error:
                let byte = bytes[offset]
                let hex = String(byte, radix: 16)
                let column = String(decoding: bytes[lineStart..<offset], as: UTF8.self).unicodeScalars.count + 1
                throw CLIProblem(
                    "\(path): \(what) is not UTF-8 text: byte 0x\(hex.count == 1 ? "0" + hex : hex) at line \(line), column \(column)"
                        + (bytes.prefix(4096).contains(0) ? " (it holds NUL bytes: a binary file?)" : ""))
            }
        }
    }

    /// Creates `path` and any missing folders above it; returns the folders it created,
    /// outermost first (so a caller can remove them again).
    @discardableResult
    public static func makeDirectories(_ path: String) throws(CLIProblem) -> [String] {
        var missing: [String] = []
        var p = trimmingTrailingSlashes(path)
        while true {
            if let k = kind(p, followingLinks: true) {
                guard k == .directory else {
                    throw CLIProblem("cannot create '\(path)': '\(p)' is \(k.noun), not a directory")
                }
                break
            }
            missing.append(p)
            let up = parent(p)
            if up == p { break }
            p = up
        }
        var created: [String] = []
        for d in missing.reversed() {
            if mkdir(d, 0o777) != 0 && errno != EEXIST {
                let code = errno
                for c in created.reversed() { rmdir(c) }
                throw CLIProblem("cannot create the directory '\(d)': \(reason(code))")
            }
            created.append(d)
        }
        return created
    }

    /// Writes `bytes` to a new file at `path` (it must not exist).
    public static func createFile(_ path: String, _ bytes: [UInt8]) throws(CLIProblem) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw CLIProblem("cannot create '\(path)': \(reason(errno))", exitCode: 1) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                unlink(path)
                throw CLIProblem("cannot write '\(path)': \(reason(code))", exitCode: 1)
            }
            done += n
        }
        if close(fd) != 0 {
            let code = errno
            unlink(path)
            throw CLIProblem("cannot write '\(path)': \(reason(code))", exitCode: 1)
        }
    }

    /// rename(2), with the failure in words.
    public static func rename(_ from: String, _ to: String) throws(CLIProblem) {
        #if canImport(Glibc)
        let r = Glibc.rename(from, to)
        #else
        let r = Darwin.rename(from, to)
        #endif
        if r != 0 {
            throw CLIProblem("cannot rename '\(from)' to '\(to)': \(reason(errno))", exitCode: 1)
        }
    }

    /// Removes `path` and everything below it, without following symbolic links.
    public static func removeTree(_ path: String) throws(CLIProblem) {
        guard let k = kind(path) else { return }
        if k == .directory {
            for name in try entries(ofDirectory: path) { try removeTree(path + "/" + name) }
            if rmdir(path) != 0 { throw CLIProblem("cannot remove '\(path)': \(reason(errno))", exitCode: 1) }
        } else if unlink(path) != 0 {
            throw CLIProblem("cannot remove '\(path)': \(reason(errno))", exitCode: 1)
        }
    }
}
