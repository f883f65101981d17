import OvercommitSupport
import Simulation
import Yams

/// A problem found while checking a node tree, before it is tied to a file name.
struct Problem {
    var mark: Place?
    var keyPath: String
    var message: String
    var allowed: String? = nil
}

/// A 1-based line and column (Yams's `Mark` cannot be created outside Yams).
struct Place: Equatable {
    var line: Int
    var column: Int
    init(line: Int, column: Int) { self.line = line; self.column = column }
    init?(_ mark: Mark?) {
        guard let mark else { return nil }
        line = mark.line; column = mark.column
    }
}

/// Checks a composed YAML tree against the parameter tables, reached generically from
/// `ScenarioConfig.parameters` (tables, lists of tables, variants selected by their
/// discriminator, scalars), and builds the tree the decoder reads:
///
/// - merge keys (`<<: *name`, `<<: [*a, *b]`) resolved; explicit keys win, then earlier
///   merged tables over later ones (YAML's merge rules);
/// - a key written with an empty value (`key:` or `key: null`) means the default;
/// - every key absent from a table filled in with the encoded default of that table
///   (`T()`), so decoders need not cope with missing keys;
/// - the free-form top-level `templates:` dropped.
///
/// User nodes keep their marks in the result; filled-in defaults have none.
struct SchemaWalker {
    var problems: [Problem] = []
    /// Keys whose value was wrong and left out of the result, by the path of their table.
    var failedKeys: [(table: String, key: String)] = []
    /// Paths of the keys that misspelt keys were probably meant to be: problems of their
    /// defaults (`guests: a scenario needs at least one guest` after `gusts:`) are noise.
    var guessedKeys: [String] = []
    /// True when a list entry could not be built at all: the result lacks an entry, so
    /// later indices and checks would be off.
    var incomplete = false

    /// The top-level key that holds anchors for merge keys; never validated.
    static let templatesKey = "templates"

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    mutating func walkScenario(_ node: Node) -> Node? {
        walkTable(node, ScenarioConfig.self, path: "", isRoot: true)
    }

    // MARK: Tables and variants

    /// A table's parameters without a parameter that makes the table itself a variant
    /// (`kind: variant(discriminator: "kind")`, as the `workload` entry of `WorkloadSpec`), and that variant.
    static func split(
        _ table: any ParameterSchema.Type
    ) -> (params: [ParameterInfo], variant: (discriminator: String, cases: [(name: String, table: any ParameterSchema.Type)])?) {
        var params: [ParameterInfo] = []
        var variant: (discriminator: String, cases: [(name: String, table: any ParameterSchema.Type)])? = nil
        for p in table.parameters {
            if case .variant(let d, let cases) = p.kind, d == p.key, variant == nil {
                variant = (d, cases)
            } else {
                params.append(p)
            }
        }
        return (params, variant)
    }

    mutating func walkTable(_ node: Node, _ table: any ParameterSchema.Type, path: String, isRoot: Bool = false) -> Node? {
        let (params, variant) = SchemaWalker.split(table)
        return walkMapping(
            node, expecting: .table(table), params: params,
            defaults: OrderedEncoding.defaults(of: table), variant: variant,
            path: path, isRoot: isRoot)
    }

    mutating func walkMapping(
        _ node: Node, expecting kind: ParameterKind, params: [ParameterInfo],
        defaults: [(key: String, value: EncodedValue)],
        variant: (discriminator: String, cases: [(name: String, table: any ParameterSchema.Type)])?,
        path: String, isRoot: Bool
    ) -> Node? {
        guard case .mapping(let mapping) = node else {
            problem(node.mark, path, "expected \(SchemaWalker.expectation(kind)); got \(SchemaWalker.describe(node))")
            return nil
        }
        let entries = flattenMerges(mapping, path: path)
        var params = params
        var defaults = defaults
        var out: [(key: String, keyNode: Node, value: Node)] = []

        if let variant {
            let d = variant.discriminator
            let names = variant.cases.map(\.name)
            guard let entry = entries.first(where: { $0.key == d }), !SchemaWalker.isNull(entry.value) else {
                problem(mapping.mark, path, "missing '\(d)': say which \(d) this table is", allowed: names.joined(separator: ", "))
                return nil
            }
            guard case .scalar(let s) = entry.value else {
                problem(
                    entry.value.mark, SchemaWalker.join(path, d), "expected a name; got \(SchemaWalker.describe(entry.value))",
                    allowed: names.joined(separator: ", "))
                return nil
            }
            guard let chosen = variant.cases.first(where: { $0.name == s.string }) else {
                problem(
                    s.mark, SchemaWalker.join(path, d), "unknown \(d) '\(s.string)'" + Suggestions.didYouMean(s.string, names),
                    allowed: names.joined(separator: ", "))
                return nil
            }
            let (caseParams, _) = SchemaWalker.split(chosen.table)
            params += caseParams.filter { $0.key != d }
            for pair in OrderedEncoding.defaults(of: chosen.table) where pair.key != d && !defaults.contains(where: { $0.key == pair.key }) {
                defaults.append(pair)
            }
            out.append((d, entry.keyNode, entry.value))
        }

        var allowedKeys = (variant.map { [$0.discriminator] } ?? []) + params.map(\.key)
        if isRoot { allowedKeys.removeAll { $0 == SchemaWalker.templatesKey } }
        for entry in entries {
            if let variant, entry.key == variant.discriminator { continue }
            if isRoot && entry.key == SchemaWalker.templatesKey { continue }
            let keyPath = SchemaWalker.join(path, entry.key)
            guard let p = params.first(where: { $0.key == entry.key }) else {
                let guess = Suggestions.closest(to: entry.key, in: allowedKeys)
                problem(
                    entry.keyNode.mark, keyPath, "unknown key '\(entry.key)'" + (guess.map { "; did you mean '\($0)'?" } ?? ""),
                    allowed: allowedKeys.joined(separator: ", "))
                if let guess { guessedKeys.append(SchemaWalker.join(path, guess)) }
                continue
            }
            if SchemaWalker.isNull(entry.value) { continue }  // `key:` alone means the default
            if let v = walkValue(entry.value, p.kind, path: keyPath) {
                out.append((entry.key, entry.keyNode, v))
            } else {
                // Left out (so the default stands in) and remembered, so that range and
                // consistency checks next to it are not reported against the default.
                failedKeys.append((table: path, key: entry.key))
            }
        }
        for pair in defaults where !out.contains(where: { $0.key == pair.key }) {
            out.append((pair.key, Node(pair.key), SchemaWalker.node(pair.value)))
        }
        return .mapping(Node.Mapping(out.map { ($0.keyNode, $0.value) }, .implicit, .any, mapping.mark))
    }

    /// The mapping's entries with merge keys resolved: explicit keys first, then keys from
    /// merged tables that are not already present (earlier merged tables win).
    mutating func flattenMerges(_ mapping: Node.Mapping, path: String) -> [(key: String, keyNode: Node, value: Node)] {
        var explicit: [(key: String, keyNode: Node, value: Node)] = []
        var merged: [[(key: String, keyNode: Node, value: Node)]] = []
        for (k, v) in mapping {
            guard case .scalar(let ks) = k else {
                problem(k.mark, path, "keys must be names; got \(SchemaWalker.describe(k)) as a key")
                continue
            }
            if ks.string == "<<" && (ks.style == .plain || ks.style == .any) {
                let mergeHelp = "'<<' merges tables: write '<<: *name' for a table anchored with '&name', or '<<: [*a, *b]'"
                switch v {
                case .mapping(let m):
                    merged.append(flattenMerges(m, path: path))
                case .sequence(let seq):
                    for item in seq {
                        if case .mapping(let m) = item {
                            merged.append(flattenMerges(m, path: path))
                        } else {
                            problem(item.mark, path, mergeHelp + "; got \(SchemaWalker.describe(item))")
                        }
                    }
                default:
                    problem(v.mark, path, mergeHelp + "; got \(SchemaWalker.describe(v))")
                }
                continue
            }
            // Rebuilt with an implicit tag so the decoder's key lookup matches it.
            let keyNode = Node.scalar(Node.Scalar(ks.string, .implicit, .plain, ks.mark))
            explicit.append((ks.string, keyNode, v))
        }
        var result = explicit
        var seen = Set(explicit.map(\.key))
        for source in merged {
            for e in source where !seen.contains(e.key) {
                seen.insert(e.key)
                result.append(e)
            }
        }
        return result
    }

    // MARK: Values

    mutating func walkValue(_ node: Node, _ kind: ParameterKind, path: String) -> Node? {
        switch kind {
        case .table(let t):
            return walkTable(node, t, path: path)
        case .variant(let d, let cases):
            return walkMapping(node, expecting: kind, params: [], defaults: [], variant: (d, cases), path: path, isRoot: false)
        case .list(let t):
            guard case .sequence(let seq) = node else {
                problem(node.mark, path, "expected \(SchemaWalker.expectation(kind)); got \(SchemaWalker.describe(node))")
                return nil
            }
            var items: [Node] = []
            for (i, item) in seq.enumerated() {
                let itemPath = path + "[\(i)]"
                if SchemaWalker.isNull(item) {
                    problem(item.mark ?? seq.mark, itemPath, "expected a \(t.tableName) table; got an empty entry")
                    incomplete = true
                } else if let n = walkTable(item, t, path: itemPath) {
                    items.append(n)
                } else {
                    incomplete = true
                }
            }
            return .sequence(Node.Sequence(items, .implicit, .any, seq.mark))
        case .listOfScalars:
            guard case .sequence(let seq) = node else {
                problem(node.mark, path, "expected \(SchemaWalker.expectation(kind)); got \(SchemaWalker.describe(node))")
                return nil
            }
            var ok = true
            for (i, item) in seq.enumerated() {
                guard case .scalar = item, !SchemaWalker.isNull(item) else {
                    problem(item.mark ?? seq.mark, path + "[\(i)]", "expected \(SchemaWalker.expectation(kind)) entry; got \(SchemaWalker.describe(item))")
                    ok = false
                    continue
                }
            }
            return ok ? node : nil
        case .listOfChoices(let noun, let names):
            guard case .sequence(let seq) = node else {
                problem(node.mark, path, "expected \(SchemaWalker.expectation(kind)); got \(SchemaWalker.describe(node))")
                return nil
            }
            var ok = true
            for (i, item) in seq.enumerated() {
                guard case .scalar(let s) = item, !SchemaWalker.isNull(item) else {
                    problem(
                        item.mark ?? seq.mark, path + "[\(i)]", "expected a \(noun) name; got \(SchemaWalker.describe(item))",
                        allowed: names.joined(separator: ", "))
                    ok = false
                    continue
                }
                if !names.contains(s.string) {
                    problem(
                        s.mark, path + "[\(i)]", "unknown \(noun) '\(s.string)'" + Suggestions.didYouMean(s.string, names),
                        allowed: names.joined(separator: ", "))
                    ok = false
                }
            }
            return ok ? node : nil
        case .mapOfScalars(let noun):
            guard case .mapping(let mapping) = node else {
                problem(node.mark, path, "expected \(SchemaWalker.expectation(kind)); got \(SchemaWalker.describe(node))")
                return nil
            }
            var ok = true
            for (k, v) in mapping {
                guard case .scalar(let ks) = k, !ks.string.isEmpty else {
                    problem(k.mark ?? mapping.mark, path, "expected a name as key; got \(SchemaWalker.describe(k))")
                    ok = false
                    continue
                }
                guard case .scalar = v, !SchemaWalker.isNull(v) else {
                    problem(v.mark ?? mapping.mark, SchemaWalker.join(path, ks.string), "expected one of \(noun); got \(SchemaWalker.describe(v))")
                    ok = false
                    continue
                }
            }
            return ok ? node : nil
        case .bytes, .duration, .percent, .int, .double, .bool, .string, .choice:
            guard case .scalar(let s) = node else {
                problem(node.mark, path, "expected \(SchemaWalker.expectation(kind)); got \(SchemaWalker.describe(node))")
                return nil
            }
            if let (message, allowed) = SchemaWalker.checkScalar(s, kind) {
                problem(s.mark, path, message, allowed: allowed)
                return nil
            }
            return node
        }
    }

    /// Nil when the scalar reads as `kind` the way the decoders read it (Yams's scalar
    /// constructors and the unit parsers); otherwise the message and allowed values.
    static func checkScalar(_ s: Node.Scalar, _ kind: ParameterKind) -> (String, String?)? {
        let ok: Bool
        switch kind {
        case .bytes: ok = UInt64.construct(from: s) != nil || ByteCount.parse(s.string) != nil
        case .duration: ok = SimDuration.parse(s.string) != nil
        case .percent: ok = Double.construct(from: s) != nil || Percentage.parse(s.string) != nil
        case .int: ok = Int.construct(from: s) != nil || UInt64.construct(from: s) != nil
        case .double: ok = Double.construct(from: s) != nil
        case .bool: ok = Bool.construct(from: s) != nil
        case .string: ok = true
        case .choice(let options):
            if options.contains(s.string) { return nil }
            return ("unknown value '\(s.string)'" + Suggestions.didYouMean(s.string, options), options.joined(separator: ", "))
        case .table, .list, .listOfScalars, .listOfChoices, .mapOfScalars, .variant: ok = false
        }
        return ok ? nil : ("expected \(expectation(kind)); got '\(s.string)'", nil)
    }

    // MARK: Helpers

    mutating func problem(_ mark: Mark?, _ path: String, _ message: String, allowed: String? = nil) {
        problems.append(Problem(mark: Place(mark), keyPath: path, message: message, allowed: allowed))
    }

    /// Yams's null: a plain `~`, `null`, `Null`, `NULL` or empty scalar.
    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain || s.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    /// What a value of `kind` looks like, for "expected ..." messages.
    static func expectation(_ kind: ParameterKind) -> String {
        switch kind {
        case .bytes: return "a size: bytes or a number with a unit (B, KiB, MiB, GiB, TiB, kB, MB, GB, TB), e.g. 8GiB"
        case .duration: return "a duration: a number with a unit (ns, us, ms, s, min, h), e.g. 100us or 30s"
        case .percent: return "a percentage, e.g. 50%"
        case .int: return "an integer"
        case .double: return "a number"
        case .bool: return "true or false"
        case .string: return "a string"
        case .choice(let c): return "one of: " + c.joined(separator: ", ")
        case .table(let t): return "a table (\(t.tableName))"
        case .list(let t): return "a list of \(t.tableName) tables"
        case .listOfScalars(let s): return "a list of \(s)"
        case .mapOfScalars(let s): return "a mapping of names to \(s)"
        case .listOfChoices(let noun, let c): return "a list of \(noun) names (" + c.joined(separator: ", ") + ")"
        case .variant(let d, _): return "a table with '\(d)'"
        }
    }

    /// How a node looks, for "got ..." messages.
    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a table"
        case .sequence: return "a list"
        case .scalar(let s): return isNull(node) ? "an empty value" : "'\(s.string)'"
        case .alias: return "an alias"
        }
    }

    /// A node the decoders read back as `value`.
    static func node(_ value: EncodedValue) -> Node {
        switch value {
        case .null: return .scalar(.init("null", Tag(.null), .plain))
        case .bool(let b): return .scalar(.init(b ? "true" : "false", Tag(.bool), .plain))
        case .int(let i): return .scalar(.init(String(i), Tag(.int), .plain))
        case .uint(let u): return .scalar(.init(String(u), Tag(.int), .plain))
        case .double(let d): return .scalar(.init(YAMLText.double(d), Tag(.float), .plain))
        case .string(let s): return .scalar(.init(s, Tag(.str), .doubleQuoted))
        case .list(let items): return .sequence(.init(items.map(node)))
        case .map(let pairs): return .mapping(.init(pairs.map { (Node($0.key), node($0.value)) }))
        }
    }
}

extension SchemaWalker {
    /// Checks text written as a plain scalar against `kind`; the message, or nil when it reads.
    static func check(plain text: String, as kind: ParameterKind) -> String? {
        checkScalar(Node.Scalar(text, .implicit, .plain), kind)?.0
    }
}
