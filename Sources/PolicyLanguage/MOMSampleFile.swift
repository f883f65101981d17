/// Sample data for trying a policy without a scenario (`overcommit policy eval`): Host's and
/// each guest's field values with their history, their properties and the injected variables.
///
/// The file is INI-like, as MOM's own configuration:
///
///     # Host: MOM's fields in MOM's units (KiB); several values are a history, oldest first
///     [host]
///     mem_available = 16777216
///     mem_free = 4194304 3670016 3145728
///     ksm_pages_to_scan = 100
///
///     [guest web-1]
///     balloon_cur = 4194304
///     balloon_max = 4194304
///     mem_unused = 1048576
///
///     [variables]
///     balloonEnabled = 1
///
/// A value is a number (the policy language's syntax), a quoted string or `nil`. A field with
/// fewer values than the longest history of its entity is nil in the older samples. Fields
/// not given are nil, except those overcommit reports as fixed values (the CPU-tuning fields).
public struct MOMSampleBuilder: Sendable {
    /// The history one entity keeps (MOM's `sample-history-length`).
    public var historyLength: Int
    var hostGiven = false
    var hostFields: [(field: Int, values: [PolicyValue])] = []
    var hostInterval: Int?
    var guests: [(name: String, uuid: String?, pid: Int?, fields: [(field: Int, values: [PolicyValue])])] = []
    var variables: [PolicyVariable] = []

    public init(historyLength: Int = MOMSampleHistory<MOMHostSample>.defaultCapacity) {
        self.historyLength = historyLength
    }

    /// The guests named so far, in order.
    public var guestNames: [String] { guests.map(\.name) }

    /// Sets a Host field's history or Host's `interval` property. `origin` prefixes errors
    /// (`file:line:column` or `--host`).
    public mutating func setHost(_ key: String, _ values: [PolicyValue], origin: String) throws(PolicyError) {
        hostGiven = true
        if key == "interval" {
            guard values.count == 1, case .int(let i) = values[0] else {
                throw PolicyError(.value, "\(origin): interval is one integer (seconds)")
            }
            hostInterval = i
            return
        }
        let field = try fieldIndex(key, .host, values, origin: origin)
        hostFields.removeAll { $0.field == field }
        hostFields.append((field, values))
    }

    /// Declares a guest (in order of first mention) without setting anything.
    public mutating func addGuest(_ name: String, origin: String) throws(PolicyError) {
        guard !name.isEmpty else { throw PolicyError(.value, "\(origin): a guest needs a name") }
        if !guests.contains(where: { $0.name == name }) { guests.append((name, nil, nil, [])) }
    }

    /// Sets a guest field's history or a guest property (`uuid`, `pid`).
    public mutating func setGuest(_ name: String, _ key: String, _ values: [PolicyValue], origin: String) throws(PolicyError) {
        try addGuest(name, origin: origin)
        let g = guests.firstIndex { $0.name == name }!
        switch key {
        case "name":
            throw PolicyError(.value, "\(origin): a guest's name is given by its section or prefix, not as a key")
        case "uuid":
            guard values.count == 1, case .string(let s) = values[0] else { throw PolicyError(.value, "\(origin): uuid is one quoted string") }
            guests[g].uuid = s
        case "pid":
            guard values.count == 1, case .int(let i) = values[0] else { throw PolicyError(.value, "\(origin): pid is one integer") }
            guests[g].pid = i
        default:
            let field = try fieldIndex(key, .guest, values, origin: origin)
            guests[g].fields.removeAll { $0.field == field }
            guests[g].fields.append((field, values))
        }
    }

    /// Sets an injected variable (a later setting of the same name replaces it).
    public mutating func setVariable(_ name: String, _ value: PolicyValue, origin: String) throws(PolicyError) {
        if let p = PolicyProgram.variableNameProblem(name) { throw PolicyError(.value, "\(origin): \(p)") }
        variables.removeAll { $0.name == name }
        variables.append(PolicyVariable(name, value))
    }

    func fieldIndex(_ key: String, _ kind: MOMEntityKind, _ values: [PolicyValue], origin: String) throws(PolicyError) -> Int {
        guard let i = kind.fieldIndex(key) else {
            let props = kind.properties.map(\.name)
            throw PolicyError(
                .unknownField,
                "\(origin): \(key) is not a field of \(kind.displayName)\(Suggest.didYouMean(key, kind.fieldNames + props)) (fields: \(kind.fieldNames.joined(separator: ", ")); properties: \(props.joined(separator: ", ")))"
            )
        }
        if case .fixed = kind.fields[i].source, kind.fields[i].unit == "objects" {
            throw PolicyError(.value, "\(origin): \(key) holds objects overcommit does not model (it is always nil)")
        }
        guard !values.isEmpty else { throw PolicyError(.value, "\(origin): \(key) needs at least one value") }
        guard values.count <= historyLength else {
            throw PolicyError(
                .value, "\(origin): \(key) has \(values.count) values, more than the sample history of \(historyLength) (raise it with --history)")
        }
        for v in values {
            switch v {
            case .int, .bigInt, .float, .none: continue
            default: throw PolicyError(.type, "\(origin): \(key) takes numbers or nil, not \(v.pythonRepr())")
            }
        }
        return i
    }

    static func samples(_ fields: [(field: Int, values: [PolicyValue])], _ kind: MOMEntityKind) -> [[PolicyValue]] {
        let count = max(1, fields.map(\.values.count).max() ?? 1)
        let initial = kind.fields.map(\.initialValue)
        var out = [[PolicyValue]](repeating: initial, count: count)
        for (f, values) in fields {
            for (k, v) in values.enumerated() { out[count - values.count + k][f] = v }
        }
        return out
    }

    /// The evaluation input. Host has no sample unless something set a Host key.
    public func build() -> PolicyInput {
        var host = MOMHostData(interval: hostInterval)
        if hostGiven {
            host.samples = Self.samples(hostFields, .host).map {
                var s = MOMHostSample(); s.values = $0; return s
            }
        }
        let gs = guests.map { g in
            MOMGuestData(
                name: g.name, uuid: g.uuid, pid: g.pid,
                samples: Self.samples(g.fields, .guest).map {
                    var s = MOMGuestSample(); s.values = $0; return s
                })
        }
        return PolicyInput(host: host, guests: gs, variables: variables)
    }

    // MARK: Values

    /// Parses values written as in the policy language: numbers, quoted strings, nil;
    /// separated by whitespace or commas. `origin(column)` names the place of an error.
    public static func parseValues(_ text: String, origin: (Int) -> String) throws(PolicyError) -> [PolicyValue] {
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "," ? " " : $0 }))
        let map = SourceMap([PolicySource(name: "", text: cleaned)])
        var scanner = PolicyScanner(map)
        let tokens: [PolicyToken]
        do { tokens = try scanner.tokenize() } catch {
            throw PolicyError(.syntax, "\(origin(error.location?.column ?? 1)): \(error.message)")
        }
        var values: [PolicyValue] = []
        for t in tokens {
            switch t.kind {
            case .number(let v): values.append(v)
            case .string(let s): values.append(.string(s))
            case .symbol("nil"): values.append(.none)
            default:
                throw PolicyError(
                    .value, "\(origin(t.offset + 1)): expected a number, a quoted string or nil, found '\(map.excerpt(t.offset, t.offset + t.length))'")
            }
        }
        return values
    }

    /// Reads a sample file (the format above) into the builder.
    public mutating func read(_ text: String, file: String) throws(PolicyError) {
        enum Section { case none, host, guest(String), variables }
        var section = Section.none
        var seenSections: Set<String> = []
        var seenKeys: Set<String> = []
        let lines = PolicySource(name: file, text: text).text.split(separator: "\n", omittingEmptySubsequences: false)
        for (n, rawLine) in lines.enumerated() {
            let lineNo = n + 1
            // Drop a comment (a # outside quotes).
            var line = String.UnicodeScalarView()
            var quote: Unicode.Scalar? = nil
            for c in rawLine.unicodeScalars {
                if let q = quote { if c == q { quote = nil } } else if c == "\"" || c == "'" { quote = c } else if c == "#" { break }
                line.append(c)
            }
            let content = String(line)
            let trimmed = content.trimmingPythonSpace()
            if trimmed.isEmpty { continue }
            let indent = content.unicodeScalars.prefix { PolicyScanner.isPythonSpace($0) }.count
            func at(_ column: Int) -> String { "\(file):\(lineNo):\(column)" }
            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]") else { throw PolicyError(.syntax, "\(at(indent + 1)): a section header ends with ']'") }
                let inner = String(trimmed.dropFirst().dropLast()).trimmingPythonSpace()
                let words = inner.split(separator: " ", maxSplits: 1).map(String.init)
                switch words.first ?? "" {
                case "host" where words.count == 1:
                    section = .host
                    hostGiven = true
                case "variables" where words.count == 1:
                    section = .variables
                case "guest" where words.count == 2:
                    var name = words[1].trimmingPythonSpace()
                    if name.count >= 2, let f = name.first, f == "\"" || f == "'", name.last == f { name = String(name.dropFirst().dropLast()) }
                    try addGuest(name, origin: at(indent + 1))
                    section = .guest(name)
                default:
                    throw PolicyError(.syntax, "\(at(indent + 1)): unknown section [\(inner)]: sections are [host], [guest NAME] and [variables]")
                }
                guard seenSections.insert(inner).inserted else {
                    throw PolicyError(.value, "\(at(indent + 1)): section [\(inner)] appears twice")
                }
                seenKeys = []
                continue
            }
            guard let eq = content.unicodeScalars.firstIndex(of: "=") else {
                throw PolicyError(.syntax, "\(at(indent + 1)): expected 'key = value' or a [section] header")
            }
            let key = String(content.unicodeScalars[..<eq]).trimmingPythonSpace()
            let valueColumn = content.unicodeScalars.distance(from: content.unicodeScalars.startIndex, to: eq) + 2
            let valueText = String(content.unicodeScalars[content.unicodeScalars.index(after: eq)...])
            guard seenKeys.insert(key).inserted else { throw PolicyError(.value, "\(at(indent + 1)): \(key) is given twice in this section") }
            let values = try Self.parseValues(valueText) { at(valueColumn + $0 - 1) }
            let origin = at(indent + 1)
            switch section {
            case .none:
                throw PolicyError(.syntax, "\(origin): \(key) is outside a section: start with [host], [guest NAME] or [variables]")
            case .host:
                try setHost(key, values, origin: origin)
            case .guest(let name):
                try setGuest(name, key, values, origin: origin)
            case .variables:
                guard values.count == 1 else { throw PolicyError(.value, "\(origin): a variable takes one value") }
                try setVariable(key, values[0], origin: origin)
            }
        }
    }
}

extension String {
    /// The string without leading and trailing Python whitespace.
    func trimmingPythonSpace() -> String {
        var s = Substring.UnicodeScalarView(unicodeScalars)
        while let f = s.first, PolicyScanner.isPythonSpace(f) { s.removeFirst() }
        while let l = s.last, PolicyScanner.isPythonSpace(l) { s.removeLast() }
        return String(String.UnicodeScalarView(s))
    }
}
