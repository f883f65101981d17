/// Problems found in a scenario file, each with its place in the file.

/// One problem in a scenario file.
///
/// `description` reads like a compiler diagnostic so editors can jump to it:
///
///     Configs/web.yaml:12:5: guests[0].kernel.vm.swappiness: must be between 0 and 200 (Linux's range); got 300
///
/// Parts that are unknown are left out: no `line:column` for a problem without a place
/// (an empty file), no key path for a problem outside any key (a YAML syntax error).
public struct ScenarioError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file name as given to the loader.
    public var file: String
    /// 1-based line of the offending key or value, when known.
    public var line: Int?
    /// 1-based column (in Unicode scalars, as libyaml counts), when known.
    public var column: Int?
    /// Where in the scenario the problem is, e.g. `guests[0].kernel.vm.swappiness`; empty
    /// for problems of the file as a whole.
    public var keyPath: String
    /// What is wrong, e.g. `unknown key 'swapiness'; did you mean 'vm.swappiness'?`.
    public var message: String
    /// The allowed keys or values, comma-separated, when the problem is a name not in a
    /// known set; shown after the message as `; allowed: a, b, c` (after a question, as
    /// `? allowed: a, b, c`).
    public var allowed: String?

    public init(
        file: String, line: Int? = nil, column: Int? = nil, keyPath: String = "",
        message: String, allowed: String? = nil
    ) {
        self.file = file; self.line = line; self.column = column
        self.keyPath = keyPath; self.message = message; self.allowed = allowed
    }

    /// `file:line:column: keyPath: message; allowed: ...`
    public var description: String {
        var s = file
        if let line {
            s += ":\(line)"
            if let column { s += ":\(column)" }
        }
        s += ": "
        if !keyPath.isEmpty { s += keyPath + ": " }
        s += message
        if let allowed, !allowed.isEmpty { s += (message.hasSuffix("?") ? " allowed: " : "; allowed: ") + allowed }
        return s
    }

    /// `line:column` alone (`?` for an unknown part), handy in tests.
    public var location: String { "\(line.map(String.init) ?? "?"):\(column.map(String.init) ?? "?")" }
}

/// Every problem found in one scenario file, sorted by line then column (problems without
/// a place first); `description` has one problem per line.
public struct ScenarioErrors: Error, CustomStringConvertible, Sendable {
    public var errors: [ScenarioError]

    public init(_ errors: [ScenarioError]) {
        // A stable sort: problems at the same place keep the order they were found in.
        self.errors = errors.enumerated().sorted { a, b in
            let ka = (a.element.line ?? 0, a.element.column ?? 0, a.offset)
            let kb = (b.element.line ?? 0, b.element.column ?? 0, b.offset)
            return ka < kb
        }.map(\.element)
    }

    public var count: Int { errors.count }
    public var first: ScenarioError? { errors.first }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
