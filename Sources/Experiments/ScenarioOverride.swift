import OvercommitSupport
import Scenarios
import Simulation
import Yams

/// One `--set path.to.key=value` given on the command line: a scenario key and the YAML
/// value that replaces (or adds) it before the scenario is validated.
///
/// Path syntax (the keys of docs/config-reference.md):
///
/// - tables by dotted keys: `host.memory`, `host.sharing.salting`, `host.balloon_policy.kind`;
///   keys that contain dots are written as they are (`guests[0].kernel.vm.swappiness`);
/// - list entries by index or by name: `guests[1].memory`, `guests[web].memory`
///   (the entry whose `name:` is `web`), `guests[db].workloads[0].peak`;
/// - the value is YAML with human units (`8GiB`, `250ms`, `40%`, `true`, `{size: 1GiB}`).
///
/// Overrides work on the parsed YAML tree, which is then written back as text and read by
/// `ScenarioLoader` like any scenario file, so a bad value gets the loader's own message
/// (naming the key and what is allowed). A path that leaves the schema fails here with
/// the keys allowed at that level, as the loader does for a misspelt key in a file.
public struct ScenarioOverride: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var value: String

    public init(path: String, value: String) { self.path = path; self.value = value }

    /// Parses `path=value` (the first `=` separates them).
    public init(parsing text: String) throws(OverrideError) {
        guard let eq = text.firstIndex(of: "=") else {
            throw OverrideError("'\(text)': write a key and a value as path.to.key=value (e.g. host.memory=8GiB)")
        }
        let p = String(text[..<eq]).trimmingSpaces, v = String(text[text.index(after: eq)...]).trimmingSpaces
        guard !p.isEmpty else { throw OverrideError("'\(text)': the key before '=' is empty") }
        guard !v.isEmpty else { throw OverrideError("'\(text)': the value after '=' is empty") }
        self.init(path: p, value: v)
    }

    public var description: String { "\(path)=\(value)" }

    /// Splits `v1,v2,v3` at the commas outside brackets, braces and quotes, so a value may
    /// itself be a YAML list or table (`--set 'host.states.soft_techniques=[balloon],[balloon, compress]'`).
    public static func splitValues(_ text: String) -> [String] {
        var out: [String] = []
        var cur = ""
        var depth = 0
        var quote: Character? = nil
        for ch in text {
            if let q = quote {
                cur.append(ch)
                if ch == q { quote = nil }
                continue
            }
            switch ch {
            case "\"", "'": quote = ch; cur.append(ch)
            case "[", "{": depth += 1; cur.append(ch)
            case "]", "}": depth -= 1; cur.append(ch)
            case "," where depth == 0: out.append(cur.trimmingSpaces); cur = ""
            default: cur.append(ch)
            }
        }
        out.append(cur.trimmingSpaces)
        return out
    }
}

/// An override that cannot be applied, or a scenario that is invalid once it is.
public struct OverrideError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// Applies `ScenarioOverride`s to scenario text and loads the result through `ScenarioLoader`.
public enum ScenarioOverrides {
    /// Loads `text` (errors as the loader reports them, with file, line and key), then,
    /// when there are overrides, applies them and loads again; a problem caused by an
    /// override is reported against that `--set`.
    public static func load(text: String, file: String, overrides: [ScenarioOverride]) throws(OverrideError) -> ScenarioConfig {
        let base: ScenarioConfig
        do { base = try ScenarioLoader.load(text: text, file: file) } catch { throw OverrideError(error.description) }
        guard !overrides.isEmpty else { return base }
        let (newText, paths) = try applyResolving(overrides, to: text, file: file)
        do {
            return try ScenarioLoader.load(text: newText, file: file)
        } catch {
            // Lines refer to the rewritten text: name the override instead.
            let lines = error.errors.map { e -> String in
                var culprit: ScenarioOverride? = nil
                for (o, p) in zip(overrides, paths) where blames(e.keyPath, on: p) { culprit = o }
                var plain = e
                plain.line = nil; plain.column = nil
                plain.file = culprit.map { "--set \($0)" } ?? "\(file) with --set \(overrides.map(\.description).joined(separator: " "))"
                return plain.description
            }
            throw OverrideError(lines.joined(separator: "\n"))
        }
    }

    /// Whether a problem at `key` comes from an override of `path` (the key itself, below it, or a table above it).
    static func blames(_ key: String, on path: String) -> Bool {
        if key == path { return true }
        if key.hasPrefix(path + ".") || key.hasPrefix(path + "[") { return true }
        return path.hasPrefix(key + ".")
    }

    /// The scenario text with every override applied (the tree written back as YAML).
    public static func apply(_ overrides: [ScenarioOverride], to text: String, file: String) throws(OverrideError) -> String {
        try applyResolving(overrides, to: text, file: file).text
    }

    /// The new text and each override's key path as the loader spells it (`guests[0].memory` for `guests[web].memory`).
    static func applyResolving(_ overrides: [ScenarioOverride], to text: String, file: String) throws(OverrideError) -> (text: String, paths: [String]) {
        var paths: [String] = []
        var root: Node
        do {
            guard let n = try Yams.compose(yaml: text) else { throw OverrideError("\(file): the scenario is empty") }
            root = n
        } catch let e as OverrideError { throw e } catch { throw OverrideError("\(file): invalid YAML: \(error)") }
        for o in overrides {
            let valueNode: Node
            do {
                valueNode = try Yams.compose(yaml: o.value) ?? Node("")
            } catch {
                throw OverrideError("--set \(o): the value is not valid YAML: \(error)")
            }
            let steps = try parse(o, root: root)
            var resolved = ""
            root = try set(valueNode, at: steps[...], in: root, table: .table(ScenarioConfig.self), done: "", override: o, resolved: &resolved)
            paths.append(resolved)
        }
        do { return (try Yams.serialize(node: root), paths) } catch { throw OverrideError("cannot write the scenario back as YAML: \(error)") }
    }

    enum Step: Equatable { case key(String), index(Int), name(String) }

    /// Splits a path into keys and list selectors; keys are resolved against the schema in `set`.
    static func parse(_ o: ScenarioOverride, root: Node) throws(OverrideError) -> [Step] {
        var steps: [Step] = []
        var rest = Substring(o.path)
        while !rest.isEmpty {
            if rest.first == "[" {
                guard let close = rest.firstIndex(of: "]") else { throw OverrideError("--set \(o): '[' without ']' in the key path") }
                let inner = String(rest[rest.index(after: rest.startIndex)..<close]).trimmingSpaces
                guard !inner.isEmpty else { throw OverrideError("--set \(o): empty '[]'; write an index (guests[0]) or a name (guests[web])") }
                steps.append(Int(inner).map(Step.index) ?? .name(inner))
                rest = rest[rest.index(after: close)...]
                if rest.first == "." { rest = rest.dropFirst() }
            } else {
                // The raw text up to the next '[' (keys may contain dots; resolved later).
                let end = rest.firstIndex(of: "[") ?? rest.endIndex
                var seg = rest[..<end]
                if seg.last == "." { seg = seg.dropLast() }
                steps.append(.key(String(seg)))
                rest = rest[end...]
            }
        }
        return steps
    }

    /// Replaces the node at `steps` under `node` (whose schema is `kind`), creating tables on the way.
    /// `defaultCase` is the case a variant table takes when it names none (the key's default).
    static func set(
        _ value: Node, at steps: ArraySlice<Step>, in node: Node?, table kind: ParameterKind, defaultCase: String? = nil,
        done: String, override o: ScenarioOverride, resolved: inout String
    ) throws(OverrideError) -> Node {
        guard let step = steps.first else { resolved = done; return value }
        switch (step, kind) {
        case (.key(let dotted), .table), (.key(let dotted), .variant):
            var pairs: [(Node, Node)] = []
            var mappingTag: Tag? = nil
            switch node {
            case .mapping(let m)?: pairs = m.map { ($0.key, $0.value) }; mappingTag = m.tag
            case nil: break
            case .scalar(let s)? where isVariant(kind):
                // `balloon_policy: esx` is short for `{kind: esx}`.
                if !s.string.isEmpty { pairs = [(Node("kind"), Node(s.string))] }
            case .scalar(let s)? where s.string.isEmpty || s.string == "null" || s.string == "~": break
            default:
                throw OverrideError("--set \(o): '\(done.isEmpty ? "(top)" : done)' is not a table here; set it as a whole (--set \(done)=...)")
            }
            let params = parameters(of: kind, current: pairs, defaultCase: defaultCase)
            // The longest schema key that the dotted text starts with.
            var best: ParameterInfo? = nil
            for p in params where dotted == p.key || dotted.hasPrefix(p.key + ".") {
                if best == nil || p.key.count > best!.key.count { best = p }
            }
            guard let p = best else {
                let allowed = params.map(\.key).filter { $0 != "templates" }
                // Compare as many dot-separated parts as each allowed key has (vm.swapiness).
                let segments = dotted.split(separator: ".", omittingEmptySubsequences: false)
                var unknown = String(segments[0]), hint: String? = nil, bestDistance = Int.max
                for key in allowed {
                    let parts = key.split(separator: ".").count
                    let candidate = segments.prefix(parts).joined(separator: ".")
                    if let s = Suggest.closest(candidate, in: [key]) {
                        let d = EditDistance.osa(candidate, s)
                        if d < bestDistance { bestDistance = d; hint = s; unknown = candidate }
                    }
                }
                let place = done.isEmpty ? "the scenario" : "'" + done + "'"
                throw OverrideError(
                    "--set \(o): unknown key '\(unknown)' in \(place)"
                        + (hint.map { "; did you mean '\($0)'? allowed: " } ?? "; allowed: ") + allowed.joined(separator: ", "))
            }
            var restSteps = Array(steps.dropFirst())
            if dotted.count > p.key.count { restSteps.insert(.key(String(dotted.dropFirst(p.key.count + 1))), at: 0) }
            let path = done.isEmpty ? p.key : done + "." + p.key
            let idx = pairs.firstIndex { $0.0.scalar?.string == p.key }
            let child = idx.map { pairs[$0].1 }
            if !restSteps.isEmpty, !isContainer(p.kind) {
                throw OverrideError("--set \(o): '\(path)' is a \(p.kind.typeName), not a table or list; nothing is below it")
            }
            let newChild = try set(
                value, at: restSteps[...], in: child, table: p.kind, defaultCase: p.defaultValue,
                done: path, override: o, resolved: &resolved)
            if let idx { pairs[idx].1 = newChild } else { pairs.append((Node(p.key), newChild)) }
            return .mapping(Node.Mapping(pairs, mappingTag ?? .implicit))
        case (.key(let name), .mapOfScalars):
            // `host.policy.variables.balloonEnabled=0`: one entry of a mapping of names.
            guard steps.count == 1 else {
                throw OverrideError("--set \(o): '\(done).\(name)' is one value of a mapping; nothing is below it")
            }
            var pairs: [(Node, Node)] = []
            var mappingTag: Tag? = nil
            switch node {
            case .mapping(let m)?: pairs = m.map { ($0.key, $0.value) }; mappingTag = m.tag
            case nil: break
            case .scalar(let s)? where s.string.isEmpty || s.string == "null" || s.string == "~": break
            default:
                throw OverrideError("--set \(o): '\(done)' is not a mapping here; set it as a whole (--set \(done)=...)")
            }
            resolved = done + "." + name
            if let i = pairs.firstIndex(where: { $0.0.scalar?.string == name }) { pairs[i].1 = value } else { pairs.append((Node(name), value)) }
            return .mapping(Node.Mapping(pairs, mappingTag ?? .implicit))
        case (.index, .list), (.name, .list):
            guard case .sequence(var s)? = node else {
                throw OverrideError("--set \(o): '\(done)' has no entries in the scenario to select from")
            }
            let names = s.map { $0.mapping?["name"]?.string ?? "" }
            let at: Int
            if case .index(let i) = step {
                guard i >= 0, i < s.count else {
                    throw OverrideError(
                        "--set \(o): '\(done)[\(i)]' is out of range; the scenario has \(s.count) entr\(s.count == 1 ? "y" : "ies") (0...\(s.count - 1)): \(names.joined(separator: ", "))"
                    )
                }
                at = i
            } else {
                guard case .name(let n) = step, let j = names.firstIndex(of: n) else {
                    throw OverrideError(
                        "--set \(o): no entry of '\(done)' is named '\(stepName(step))'; allowed: \(names.filter { !$0.isEmpty }.joined(separator: ", "))")
                }
                at = j
            }
            guard case .list(let t) = kind else { return value }
            let elementKind: ParameterKind = t.parameters.count == 1 && isVariant(t.parameters[0].kind) ? t.parameters[0].kind : .table(t)
            s[at] = try set(value, at: steps.dropFirst(), in: s[at], table: elementKind, done: "\(done)[\(at)]", override: o, resolved: &resolved)
            return .sequence(s)
        case (.index, _), (.name, _):
            throw OverrideError("--set \(o): '\(done)' is not a list; '[...]' selects list entries only")
        default:
            throw OverrideError("--set \(o): '\(done)' is a \(kind.typeName); nothing is below it")
        }
    }

    static func stepName(_ s: Step) -> String {
        switch s {
        case .key(let k): k;
        case .index(let i): "\(i)";
        case .name(let n): n
        }
    }

    static func isVariant(_ k: ParameterKind) -> Bool { if case .variant = k { return true }; return false }
    static func isContainer(_ k: ParameterKind) -> Bool {
        switch k {
        case .table, .list, .variant, .mapOfScalars: return true;
        default: return false
        }
    }

    /// Keys allowed in a table, or in a variant table for the kind currently written (or the default).
    static func parameters(of kind: ParameterKind, current: [(Node, Node)], defaultCase: String? = nil) -> [ParameterInfo] {
        switch kind {
        case .table(let t):
            var out: [ParameterInfo] = []
            for p in t.parameters {
                if case .variant(let d, let cases) = p.kind, d == p.key {
                    out.append(ParameterInfo(d, .string, default: "", "selects the variant"))
                    let chosen = current.first { $0.0.scalar?.string == d }?.1.scalar?.string ?? p.defaultValue
                    if let c = cases.first(where: { $0.name == chosen }) { out += c.table.parameters }
                } else {
                    out.append(p)
                }
            }
            return out
        case .variant(let d, let cases):
            let chosen = current.first { $0.0.scalar?.string == d }?.1.scalar?.string ?? defaultCase ?? cases.first?.name ?? ""
            return [ParameterInfo(d, .choice(cases.map(\.name)), default: "", "selects the variant")]
                + (cases.first { $0.name == chosen }?.table.parameters ?? [])
        default:
            return []
        }
    }
}

/// Closest-spelling suggestions for misspelt keys (edit distance with swapped neighbours).
enum Suggest {
    static func closest(_ word: String, in candidates: [String]) -> String? {
        var best: (String, Int)? = nil
        for c in candidates {
            let d = EditDistance.osa(word, c)
            if d <= max(1, word.count / 3), best == nil || d < best!.1 { best = (c, d) }
        }
        return best?.0
    }
}
