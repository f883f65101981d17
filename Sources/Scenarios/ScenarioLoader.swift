import OvercommitSupport
import Simulation
import Yams

/// Loads scenario files (YAML, or JSON, which YAML reads too).
///
/// No file I/O here: the CLI reads the file and passes its text and name. Every problem
/// found is reported, each with `file:line:column` and the key path:
///
/// 1. YAML syntax errors and duplicate keys (from the parser);
/// 2. the schema, walked from `ScenarioConfig.parameters`: unknown keys (with a
///    suggestion), tables where values belong and the reverse, values that do not read as
///    their type, unknown choices and variant kinds;
/// 3. decoding into `ScenarioConfig` (anything the schema walk could not see);
/// 4. `ScenarioConfig.validationProblems()` (ranges, references, consistency), placed at
///    the value's line, or at its nearest written ancestor when the value is a default.
public enum ScenarioLoader {
    public static func load(text: String, file: String) throws(ScenarioErrors) -> ScenarioConfig {
        func fail(_ problems: [Problem]) -> ScenarioErrors {
            var seen: [(Int?, Int?, String)] = []
            var errors: [ScenarioError] = []
            for p in problems {
                let e = ScenarioLoader.error(p, file: file)
                // A template merged into several places reports its problems once.
                let key = (e.line, e.column, e.message + (e.allowed ?? ""))
                if e.line != nil, seen.contains(where: { $0 == key }) { continue }
                seen.append(key)
                errors.append(e)
            }
            return ScenarioErrors(errors)
        }

        // (a) Syntax: compose the node tree.
        let composed: Node?
        do {
            composed = try Yams.compose(yaml: text)
        } catch {
            throw fail(syntaxProblems(error, text: text))
        }
        guard let root = composed, !SchemaWalker.isNull(root) else {
            throw fail([
                Problem(
                    mark: nil, keyPath: "",
                    message: "the scenario is empty; write at least a guest, e.g. 'guests: [{name: vm, memory: 2GiB}]'")
            ])
        }
        guard case .mapping = root else {
            throw fail([
                Problem(
                    mark: Place(root.mark), keyPath: "",
                    message: "a scenario must be a table of keys (name:, host:, guests:, ...); got \(SchemaWalker.describe(root))")
            ])
        }
        // Aliases and merge keys: bounded before anything walks the tree (YAMLExpansion).
        if let excess = YAMLExpansion.excess(root) {
            throw fail([Problem(mark: Place(excess.mark), keyPath: "", message: excess.message)])
        }

        // (b) Schema. Wrong values are left out of the tree (their defaults stand in), so
        // decoding and validation still run and every problem is reported at once.
        var walker = SchemaWalker()
        guard let tree = walker.walkScenario(root), !walker.incomplete else { throw fail(walker.problems) }
        var problems = walker.problems

        // (c) Decode. A decoding error after schema problems is most likely one of their
        // consequences; only the schema problems are reported then.
        let config: ScenarioConfig
        do {
            config = try YAMLDecoder().decode(ScenarioConfig.self, from: tree)
        } catch let error as DecodingError {
            throw fail(problems.isEmpty ? [decodingProblem(error, tree: tree)] : problems)
        } catch {
            throw fail(problems.isEmpty ? [Problem(mark: Place(root.mark), keyPath: "", message: "cannot read the scenario: \(error)")] : problems)
        }

        // (d) Validate, except next to a value already reported as wrong (the check would
        // see the default standing in for it).
        for p in config.validationProblems() {
            let components = NodePath.components(of: p.key, in: tree)
            let table = NodePath.string(Array(components.dropLast()))
            let suppressed = walker.failedKeys.contains { failed in
                let failedPath = SchemaWalker.join(failed.table, failed.key)
                return failed.table == table || p.key == failedPath
                    || p.key.hasPrefix(failedPath + ".") || p.key.hasPrefix(failedPath + "[")
            }
            let guessed = walker.guessedKeys.contains { g in p.key == g || p.key.hasPrefix(g + ".") || p.key.hasPrefix(g + "[") }
            if suppressed || guessed { continue }
            problems.append(Problem(mark: Place(NodePath.mark(of: components, in: tree)), keyPath: p.key, message: p.message))
        }
        guard problems.isEmpty else { throw fail(problems) }
        return config
    }

    // MARK: - Mapping problems to errors

    static func error(_ p: Problem, file: String) -> ScenarioError {
        var message = p.message
        var allowed = p.allowed
        // Messages from validationProblems() carry their allowed list in the text.
        if allowed == nil, let r = message.firstRange(of: "; allowed: ") {
            allowed = String(message[r.upperBound...])
            message = String(message[..<r.lowerBound])
        }
        return ScenarioError(
            file: file, line: p.mark?.line, column: p.mark?.column,
            keyPath: p.keyPath, message: message, allowed: allowed)
    }

    static func syntaxProblems(_ error: Error, text: String) -> [Problem] {
        guard let y = error as? YamlError else {
            return [Problem(mark: nil, keyPath: "", message: "invalid YAML: \(error)")]
        }
        func context(_ c: YamlError.Context?) -> String {
            guard let c, !c.text.isEmpty else { return "" }
            return " (\(c.text) at line \(c.mark.line), column \(c.mark.column))"
        }
        switch y {
        case let .scanner(c, problem, mark, _), let .parser(c, problem, mark, _):
            return [Problem(mark: Place(mark), keyPath: "", message: "invalid YAML: \(problem)\(context(c))")]
        case let .composer(c, problem, yamsMark, _):
            let mark = Place(yamsMark)!
            if problem == "found undefined alias" {
                let name = TextScan.word(after: mark, in: text, skipping: "*")
                return [
                    Problem(
                        mark: mark, keyPath: "",
                        message: "unknown alias '*\(name)': define the anchor '&\(name)' before using it (e.g. under templates:)")
                ]
            }
            if problem == "but found another document" {
                return [Problem(mark: mark, keyPath: "", message: "a scenario file holds one YAML document; found a second one ('---')")]
            }
            return [Problem(mark: mark, keyPath: "", message: "invalid YAML: \(problem)\(context(c))")]
        case let .reader(problem, offset, _, yaml):
            let mark = offset.map { TextScan.mark(atCharacterOffset: $0, in: yaml) }
            return [Problem(mark: mark, keyPath: "", message: "cannot read the text: \(problem)")]
        case let .duplicatedKeysInMapping(duplicates, context):
            return duplicates.map { key in
                let first = Place(context.mark)!
                if let second = TextScan.nextSiblingKey(key, after: first, in: text) {
                    return Problem(
                        mark: second, keyPath: "",
                        message: "duplicate key '\(key)'; it is already set at line \(first.line), column \(first.column)")
                }
                return Problem(mark: first, keyPath: "", message: "duplicate key '\(key)': a key may appear only once in a table")
            }
        default:
            return [Problem(mark: nil, keyPath: "", message: "invalid YAML: \(y)")]
        }
    }

    static func decodingProblem(_ error: DecodingError, tree: Node) -> Problem {
        func place(_ path: [CodingKey]) -> (String, Place?) {
            let components = path.map { k -> NodePath.Component in
                if let i = k.intValue { return .index(i) }
                return .key(k.stringValue)
            }
            return (NodePath.string(components), Place(NodePath.mark(of: components, in: tree)))
        }
        func got(_ path: [CodingKey]) -> String {
            guard let n = NodePath.node(at: path.map { $0.intValue.map(NodePath.Component.index) ?? .key($0.stringValue) }, in: tree)
            else { return "" }
            return "; got \(SchemaWalker.describe(n))"
        }
        switch error {
        case let .typeMismatch(type, ctx):
            let (path, mark) = place(ctx.codingPath)
            return Problem(mark: mark, keyPath: path, message: "expected \(typeDescription(type))\(got(ctx.codingPath))")
        case let .valueNotFound(type, ctx):
            let (path, mark) = place(ctx.codingPath)
            return Problem(mark: mark, keyPath: path, message: "expected \(typeDescription(type)); got no value")
        case let .keyNotFound(key, ctx):
            let (path, mark) = place(ctx.codingPath + [key])
            return Problem(mark: mark, keyPath: path, message: "missing required key '\(key.stringValue)'")
        case let .dataCorrupted(ctx):
            let (path, mark) = place(ctx.codingPath)
            return Problem(mark: mark, keyPath: path, message: ctx.debugDescription)
        @unknown default:
            return Problem(mark: Place(tree.mark), keyPath: "", message: "\(error)")
        }
    }

    static func typeDescription(_ type: Any.Type) -> String {
        switch type {
        case is UInt64.Type, is UInt.Type, is UInt32.Type, is UInt16.Type, is UInt8.Type: return "a non-negative integer"
        case is Int.Type, is Int64.Type, is Int32.Type, is Int16.Type, is Int8.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Mapping") || name.contains("KeyedDecodingContainer") { return "a table" }
            if name.hasPrefix("Sequence") || name.hasPrefix("Array") { return "a list" }
            return name
        }
    }
}

// MARK: - Key paths in the node tree

/// Finds nodes by key path (`guests[1].kernel.vm.swappiness`) in a merge-resolved tree.
enum NodePath {
    enum Component: Equatable { case key(String), index(Int) }

    static func string(_ components: [Component]) -> String {
        var s = ""
        for c in components {
            switch c {
            case .key(let k): s = SchemaWalker.join(s, k)
            case .index(let i): s += "[\(i)]"
            }
        }
        return s
    }

    static func node(at components: [Component], in root: Node) -> Node? {
        var node = root
        for c in components {
            switch (c, node) {
            case let (.key(k), .mapping(m)):
                guard let v = m.first(where: { $0.key.scalar?.string == k })?.value else { return nil }
                node = v
            case let (.index(i), .sequence(s)):
                guard i >= 0, i < s.count else { return nil }
                node = s[i]
            default: return nil
            }
        }
        return node
    }

    /// The mark for a path: a scalar's value, a collection's key, or, when the path leaves
    /// the written tree (a filled-in default), the nearest written ancestor.
    static func mark(of components: [Component], in root: Node) -> Mark? {
        var node = root
        var best = root.mark
        for c in components {
            switch (c, node) {
            case let (.key(k), .mapping(m)):
                guard let pair = m.first(where: { $0.key.scalar?.string == k }) else { return best }
                node = pair.value
                if case .scalar = pair.value, let vm = pair.value.mark { best = vm } else if let km = pair.key.mark { best = km } else { return best }
            case let (.index(i), .sequence(s)):
                guard i >= 0, i < s.count else { return best }
                node = s[i]
                guard let m = node.mark else { return best }
                best = m
            default:
                return best
            }
        }
        return best
    }

    /// Parses a key path string against the tree: keys may contain dots
    /// (`vm.overcommit_memory`), so at each table the longest key that fits is taken.
    static func components(of path: String, in root: Node) -> [Component] {
        var out: [Component] = []
        var node: Node? = root
        var rest = Substring(path)
        while !rest.isEmpty {
            if rest.first == "[" {
                guard let close = rest.firstIndex(of: "]"), let i = Int(rest[rest.index(after: rest.startIndex)..<close]) else { break }
                out.append(.index(i))
                rest = rest[rest.index(after: close)...]
                if case .sequence(let s)? = node, i >= 0, i < s.count { node = s[i] } else { node = nil }
            } else {
                var key: String? = nil
                if case .mapping(let m)? = node {
                    for (k, _) in m {
                        guard let ks = k.scalar?.string, rest.hasPrefix(ks) else { continue }
                        let after = rest.dropFirst(ks.count)
                        if after.isEmpty || after.first == "." || after.first == "[" {
                            if key == nil || ks.count > key!.count { key = ks }
                        }
                    }
                }
                // Not in the tree: take the next dot-separated name.
                let k = key ?? String(rest.prefix { $0 != "." && $0 != "[" })
                out.append(.key(k))
                rest = rest.dropFirst(k.count)
                if case .mapping(let m)? = node { node = m.first(where: { $0.key.scalar?.string == k })?.value } else { node = nil }
            }
            if rest.first == "." { rest = rest.dropFirst() }
        }
        return out
    }

    static func mark(of path: String, in root: Node) -> Mark? {
        mark(of: components(of: path, in: root), in: root)
    }
}

// MARK: - Text helpers for places the parser does not give

enum TextScan {
    static func lines(_ text: String) -> [Substring] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
    }

    static func mark(atCharacterOffset offset: Int, in text: String) -> Place {
        var line = 1, column = 1, n = 0
        for ch in text.unicodeScalars {
            if n >= offset { break }
            if ch == "\n" { line += 1; column = 1 } else { column += 1 }
            n += 1
        }
        return Place(line: line, column: column)
    }

    /// The name written at `mark` (after a leading `*` or `&`).
    static func word(after mark: Place, in text: String, skipping prefix: Character) -> String {
        let ls = lines(text)
        guard mark.line >= 1, mark.line <= ls.count else { return "" }
        let scalars = Array(ls[mark.line - 1].unicodeScalars)
        var i = mark.column - 1
        if i < scalars.count, Character(scalars[i]) == prefix { i += 1 }
        var name = ""
        while i < scalars.count, !" \t,]}:".unicodeScalars.contains(scalars[i]) { name.unicodeScalars.append(scalars[i]); i += 1 }
        return name
    }

    /// Where a block-mapping key is written again: the next line whose key at the same
    /// column is `key`, before the mapping ends (a line indented less). In flow style,
    /// the next `key:` on the same line. Nil when not found.
    static func nextSiblingKey(_ key: String, after first: Place, in text: String) -> Place? {
        let ls = lines(text)
        guard first.line >= 1, first.line <= ls.count else { return nil }
        let col = first.column - 1
        func keyMatches(_ line: [Unicode.Scalar], at i: Int) -> Bool {
            for variant in [key, "\"\(key)\"", "'\(key)'"] {
                let k = Array(variant.unicodeScalars)
                guard i + k.count <= line.count, Array(line[i..<(i + k.count)]) == k else { continue }
                var j = i + k.count
                while j < line.count, line[j] == " " || line[j] == "\t" { j += 1 }
                if j < line.count, line[j] == ":" { return true }
            }
            return false
        }
        // Flow style: later on the same line.
        let firstLine = Array(ls[first.line - 1].unicodeScalars)
        if firstLine.count > col + 1 {
            var i = col + 1
            while i < firstLine.count {
                if (firstLine[i - 1] == " " || firstLine[i - 1] == "{" || firstLine[i - 1] == ","), keyMatches(firstLine, at: i) {
                    return Place(line: first.line, column: i + 1)
                }
                i += 1
            }
        }
        for n in first.line..<ls.count {
            let line = Array(ls[n].unicodeScalars)
            guard let indent = line.firstIndex(where: { $0 != " " }) else { continue }  // blank
            if line[indent] == "#" { continue }
            if indent < col {
                // A list item's dash may sit left of the key; anything else ends the mapping.
                return nil
            }
            if indent == col, keyMatches(line, at: col) { return Place(line: n + 1, column: col + 1) }
        }
        return nil
    }
}
