import Simulation

/// A scenario's text and where it came from: a file, standard input (`-`), any readable
/// stream (a FIFO, a process substitution such as `<(envsubst < t.yaml)`), or the built-in
/// default.
///
/// Paths written in the scenario (trace files, memory images) resolve against the folder
/// of a scenario file, and against the current directory for a scenario read from a stream.
public struct ScenarioSource: Sendable {
    /// The scenario text.
    public var text: String
    /// The name messages use: the path as given, `<stdin>`, or `<built-in default>`.
    public var file: String
    /// The folder relative paths in the scenario resolve against (empty: the current directory).
    public var baseDir: String
    /// The scenario file, when it is a file on disk (an input `--force` must not remove).
    public var inputPath: String?

    public static let builtinName = "<built-in default>"
    public static let stdinName = "<stdin>"

    public init(text: String, file: String, baseDir: String, inputPath: String?) {
        self.text = text; self.file = file; self.baseDir = baseDir; self.inputPath = inputPath
    }

    /// The built-in default scenario (the same as Configs/default.yaml).
    public static var builtin: ScenarioSource {
        ScenarioSource(text: BuiltinScenarios.defaultYAML, file: builtinName, baseDir: "", inputPath: nil)
    }

    /// Reads the scenario at `path`: nil is the built-in default, `-` standard input.
    public static func read(_ path: String?) throws(CLIProblem) -> ScenarioSource {
        guard let path else { return builtin }
        if path == "-" {
            let bytes = try FileSystem.readAll("-", what: "the scenario")
            return ScenarioSource(
                text: try FileSystem.utf8Text(bytes, path: stdinName, what: "the scenario"),
                file: stdinName, baseDir: "", inputPath: nil)
        }
        if path.isEmpty { throw CLIProblem("the scenario path is empty (an unset shell variable?); give a scenario file, or - for standard input") }
        if FileSystem.kind(path, followingLinks: true) == .directory {
            let yaml = ((try? FileSystem.entries(ofDirectory: path)) ?? [])
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }
            let hint = yaml.isEmpty ? "" : "; the scenario files in it: " + yaml.prefix(8).joined(separator: ", ") + (yaml.count > 8 ? ", ..." : "")
            throw CLIProblem("\(path): is a directory, not a scenario file (YAML or JSON)\(hint)")
        }
        let bytes = try FileSystem.readAll(path, what: "the scenario file")
        let text = try FileSystem.utf8Text(bytes, path: path, what: "the scenario file")
        // A stream has no folder of its own: its relative paths resolve against the current directory.
        let isFile = FileSystem.kind(path, followingLinks: true) == .regular
        return ScenarioSource(
            text: text, file: path, baseDir: isFile ? FileSystem.parentOrEmpty(path) : "",
            inputPath: isFile ? path : nil)
    }

    /// A path written in the scenario, resolved against `baseDir`.
    public func resolve(_ p: String) -> String {
        p.hasPrefix("/") || baseDir.isEmpty ? p : baseDir + "/" + p
    }
}

extension FileSystem {
    /// The folder part of a path, empty for a bare file name (`q.yaml`): paths relative to
    /// such a file stay relative to the current directory.
    static func parentOrEmpty(_ path: String) -> String {
        path.contains("/") ? parent(path) : ""
    }
}
