#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file or folder a command reads: an output must never replace or contain it.
public struct RunInput: Sendable, Equatable {
    /// The path as the user gave it (or as the scenario names it, resolved).
    public var path: String
    /// What it is, for messages: "the scenario file", "a trace", "an input shard".
    public var role: String
    public init(path: String, role: String) { self.path = path; self.role = role }
}

/// Output directories of `run`, `sweep` and `merge`: checked before any work, written
/// atomically, and replaced (`--force`) only when they are overcommit's own.
///
/// Every output directory holds a marker file, `.overcommit-output`, listing the files
/// overcommit wrote there. `--force` replaces an existing path only when it is
///
/// - an empty directory, or a directory holding the marker and nothing but the files the
///   marker lists (and overcommit reports, which `overcommit report` adds later);
/// - not a regular file, a link or a device; not `/`, the current directory or one of its
///   ancestors; not a directory containing an input of the run (the scenario, a trace, a
///   memory image, a shard being merged).
///
/// Anything else is refused with the reason, with or without `--force`: a user's files are
/// never deleted. Files are written into `DIR.partial-PID` next to `DIR` and renamed into
/// place when complete, so a failure or an interruption never leaves a half-written
/// directory.
public enum OutputDirectory {
    /// The marker file overcommit writes into every output directory.
    public static let markerName = ".overcommit-output"

    /// The marker's text for a directory holding `files` (deterministic: the same output
    /// gives the same marker).
    public static func markerText(files: [String]) -> String {
        """
        # Written by overcommit: an output directory. `--force` replaces it only while it holds
        # this file and nothing but the files listed below (and reports of `overcommit report`);
        # delete this file to keep overcommit from ever replacing the directory.

        """ + files.map { $0 + "\n" }.joined()
    }

    /// Checks, before any work, that `path` can receive the command's output: the path is
    /// not empty; if something is there, `--force` is given and it may be replaced (the
    /// reason it may not is given even without `--force`); the folder above can be created
    /// and written (a probe directory is created and removed). Throws exit code 2.
    public static func check(_ path: String, force: Bool, inputs: [RunInput], option: String = "--out") throws(CLIProblem) {
        let p = try normalized(path, option: option)
        try checkExisting(p, given: path, force: force, inputs: inputs, option: option, exitCode: 2)
        try probe(p, given: path, option: option)
    }

    /// Writes `files` (and the marker) into `path`, replacing an existing output directory
    /// when `force` allows it (checked again: something may have appeared since `check`).
    /// Throws exit code 1 (the work is done; only writing failed). Returns warnings (an old
    /// copy that could not be removed).
    @discardableResult
    public static func write(
        _ files: [(name: String, contents: String)], to path: String, force: Bool,
        inputs: [RunInput], option: String = "--out"
    ) throws(CLIProblem) -> [String] {
        let p = try normalized(path, option: option)
        try checkExisting(p, given: path, force: force, inputs: inputs, option: option, exitCode: 1)
        do {
            try FileSystem.makeDirectories(FileSystem.parent(p))
        } catch {
            throw CLIProblem("\(option) '\(path)': \(error.message)", exitCode: 1)
        }
        let tmp = try makeTemporaryDirectory(for: p, suffix: "partial", given: path, option: option)
        do {
            for (name, contents) in files { try FileSystem.createFile(tmp + "/" + name, Array(contents.utf8)) }
            try FileSystem.createFile(tmp + "/" + markerName, Array(markerText(files: files.map(\.name)).utf8))
        } catch {
            try? FileSystem.removeTree(tmp)
            throw CLIProblem("cannot write the output directory '\(path)': \(error.message)", exitCode: 1)
        }
        guard FileSystem.kind(p) != nil else {
            do { try FileSystem.rename(tmp, p) } catch {
                try? FileSystem.removeTree(tmp)
                throw CLIProblem("cannot write the output directory '\(path)': \(error.message)", exitCode: 1)
            }
            return []
        }
        // Replace: move the old directory aside, the new one in, then remove the old one.
        let old = try makeTemporaryDirectory(for: p, suffix: "old", given: path, option: option)
        rmdir(old)
        do { try FileSystem.rename(p, old) } catch {
            try? FileSystem.removeTree(tmp)
            throw CLIProblem("cannot replace the output directory '\(path)': \(error.message)", exitCode: 1)
        }
        do { try FileSystem.rename(tmp, p) } catch {
            _ = try? FileSystem.rename(old, p)
            try? FileSystem.removeTree(tmp)
            throw CLIProblem("cannot replace the output directory '\(path)': \(error.message)", exitCode: 1)
        }
        do { try FileSystem.removeTree(old) } catch {
            return ["wrote '\(path)', but could not remove its previous copy, now '\(old)': \(error.message)"]
        }
        return []
    }

    /// Writes a run's files, plus `report.html` when `renderReport` is given and draws it. A
    /// report that cannot be drawn costs only itself: the other files are written and its
    /// problem is returned (exit code 1), so a finished simulation is never lost to its report.
    public static func writeRun(
        _ files: [(name: String, contents: String)], report renderReport: (() throws -> String)?,
        to path: String, force: Bool, inputs: [RunInput]
    )
        throws(CLIProblem) -> (reportProblem: CLIProblem?, warnings: [String])
    {
        var all = files
        var problem: CLIProblem? = nil
        if let renderReport {
            do { all.append(("report.html", try renderReport())) } catch {
                let why = (error as? CLIProblem)?.message ?? "\(error)"
                problem = CLIProblem("report.html not written (the other files are in '\(path)'): \(why)", exitCode: 1)
            }
        }
        let warnings = try write(all, to: path, force: force, inputs: inputs)
        return (problem, warnings)
    }

    // MARK: - The rules

    static func normalized(_ path: String, option: String) throws(CLIProblem) -> String {
        guard !path.isEmpty else { throw CLIProblem("\(option): the path is empty (an unset shell variable?); give a directory to write") }
        return FileSystem.trimmingTrailingSlashes(path)
    }

    static func checkExisting(_ p: String, given: String, force: Bool, inputs: [RunInput], option: String, exitCode: Int32) throws(CLIProblem) {
        guard let kind = FileSystem.kind(p) else { return }
        if let why = whyNotReplaceable(p, kind: kind, inputs: inputs) {
            throw CLIProblem("\(option) '\(given)': \(why)", exitCode: exitCode)
        }
        if !force {
            throw CLIProblem("output directory '\(given)' exists; pass --force to replace it", exitCode: exitCode)
        }
    }

    /// Why the existing `path` may not be replaced; nil when `--force` may replace it.
    public static func whyNotReplaceable(_ path: String, inputs: [RunInput]) -> String? {
        guard let kind = FileSystem.kind(path) else { return nil }
        return whyNotReplaceable(path, kind: kind, inputs: inputs)
    }

    static func whyNotReplaceable(_ p: String, kind: FileKind, inputs: [RunInput]) -> String? {
        let never = "; overcommit never replaces it: choose another directory"
        switch kind {
        case .directory: break
        case .symbolicLink:
            return "is a symbolic link; give the directory itself (overcommit does not replace links)"
        default:
            return "is \(kind.noun), not an output directory" + never
        }
        guard let real = FileSystem.realPath(p) else { return "cannot be resolved: \(FileSystem.reason(errno))" }
        let cwd = FileSystem.currentDirectory()
        if real == "/" { return "is the root directory" + never }
        if real == cwd { return "is the current directory" + never }
        if FileSystem.isSameOrInside(cwd, real) { return "is an ancestor of the current directory (\(cwd))" + never }
        for input in inputs {
            guard let r = FileSystem.realPath(input.path) else { continue }
            if r == real { return "is \(input.role), an input of this command" + never }
            if FileSystem.isSameOrInside(r, real) { return "contains \(input.role) ('\(input.path)'), an input of this command" + never }
        }
        let entries: [String]
        do { entries = try FileSystem.entries(ofDirectory: p) } catch { return error.message }
        if entries.isEmpty { return nil }
        guard entries.contains(markerName), FileSystem.kind(p + "/" + markerName) == .regular,
            let marker = try? FileSystem.readAll(p + "/" + markerName, what: "the marker")
        else {
            return "holds files overcommit did not write (\(listing(entries))) and no \(markerName) marker"
                + "; overcommit replaces only its own output directories and empty ones: choose another directory"
        }
        let listed = Set(
            String(decoding: marker, as: UTF8.self).split(separator: "\n")
                .filter { !$0.hasPrefix("#") }.map(String.init))
        let foreign = entries.filter { name in
            name != markerName && !(listed.contains(name) && FileSystem.kind(p + "/" + name) == .regular)
                && !OutputFile.isOvercommitReport(p + "/" + name)
        }
        if !foreign.isEmpty {
            return "is an overcommit output directory, but also holds files overcommit did not write (\(listing(foreign)))"
                + "; move them out first or choose another directory"
        }
        return nil
    }

    static func listing(_ names: [String]) -> String {
        names.prefix(6).joined(separator: ", ") + (names.count > 6 ? ", ... (\(names.count) entries)" : "")
    }

    /// Creates the folders above `p` if needed and a probe directory next to `p`, writes a
    /// file into it, then removes everything it created.
    static func probe(_ p: String, given: String, option: String) throws(CLIProblem) {
        let parent = FileSystem.parent(p)
        let created: [String]
        do { created = try FileSystem.makeDirectories(parent) } catch {
            throw CLIProblem("\(option) '\(given)': \(error.message)")
        }
        defer { for d in created.reversed() { rmdir(d) } }
        let dir = try makeTemporaryDirectory(for: p, suffix: "check", given: given, option: option)
        defer { rmdir(dir) }
        let file = dir + "/" + markerName
        do { try FileSystem.createFile(file, Array("probe\n".utf8)) } catch {
            throw CLIProblem("\(option) '\(given)': cannot write files in '\(parent)': \(error.message)")
        }
        unlink(file)
    }

    /// A new, empty directory `p.SUFFIX-PID` (or `p.SUFFIX-PID-n` when that exists).
    static func makeTemporaryDirectory(for p: String, suffix: String, given: String, option: String) throws(CLIProblem) -> String {
        let base = "\(p).\(suffix)-\(getpid())"
        for n in 0..<1000 {
            let candidate = n == 0 ? base : "\(base)-\(n)"
            if mkdir(candidate, 0o777) == 0 { return candidate }
            let code = errno
            if code == EEXIST { continue }
            throw CLIProblem("\(option) '\(given)': cannot create a directory in '\(FileSystem.parent(p))': \(FileSystem.reason(code))")
        }
        throw CLIProblem("\(option) '\(given)': cannot create a temporary directory next to it ('\(base)' and 999 others exist)")
    }
}

/// Single output files (`overcommit report -o FILE`): written through a temporary file and
/// rename(2), and never over a file that is not an overcommit report or over an input.
public enum OutputFile {
    /// Whether the file at `path` is an HTML report written by `overcommit report` (or
    /// `run --report`): it starts with the report's doctype and title.
    public static func isOvercommitReport(_ path: String) -> Bool {
        guard FileSystem.kind(path) == .regular else { return false }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 512)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, 512) }
        guard n > 0 else { return false }
        let text = String(decoding: head[0..<n], as: UTF8.self)
        return text.hasPrefix("<!DOCTYPE html>") && text.contains("<title>overcommit report")
    }

    /// Checks that `path` may be written: not empty, not a directory, link or device, not an
    /// input, and either absent or an earlier overcommit report; its folder exists and is writable.
    public static func check(_ path: String, inputs: [RunInput], option: String) throws(CLIProblem) {
        guard !path.isEmpty else { throw CLIProblem("\(option): the path is empty (an unset shell variable?)") }
        if let kind = FileSystem.kind(path) {
            switch kind {
            case .regular: break
            case .directory:
                throw CLIProblem("\(option) '\(path)': is a directory; give a file name (e.g. \(FileSystem.trimmingTrailingSlashes(path))/report.html)")
            default: throw CLIProblem("\(option) '\(path)': is \(kind.noun); overcommit writes only regular files it owns")
            }
            let real = FileSystem.realPath(path)
            for input in inputs where real != nil && FileSystem.realPath(input.path) == real {
                throw CLIProblem("\(option) '\(path)': is \(input.role), an input of this command; choose another file")
            }
            if !isOvercommitReport(path) {
                throw CLIProblem(
                    "\(option) '\(path)': exists and is not an overcommit report; overcommit overwrites only its own reports: remove it or choose another file")
            }
        }
        let parent = FileSystem.parent(path)
        guard FileSystem.kind(parent, followingLinks: true) == .directory else {
            throw CLIProblem("\(option) '\(path)': the folder '\(parent)' does not exist")
        }
        let probe = "\(path).check-\(getpid())"
        do { try FileSystem.createFile(probe, []) } catch {
            throw CLIProblem("\(option) '\(path)': cannot write files in '\(parent)': \(error.message)")
        }
        unlink(probe)
    }

    /// Writes `text` to `path` (checked again) through `path.partial-PID` and rename(2), so
    /// readers see the old file or the whole new one. Throws exit code 1.
    public static func write(_ text: String, to path: String, inputs: [RunInput], option: String) throws(CLIProblem) {
        do { try check(path, inputs: inputs, option: option) } catch { throw CLIProblem(error.message, exitCode: 1) }
        let tmp = "\(path).partial-\(getpid())"
        unlink(tmp)
        do {
            try FileSystem.createFile(tmp, Array(text.utf8))
            try FileSystem.rename(tmp, path)
        } catch {
            unlink(tmp)
            throw CLIProblem(error.message, exitCode: 1)
        }
    }
}
