import OvercommitSupport
import Simulation

/// Renders a scenario as YAML with every default filled in: what `overcommit run
/// --dry-run` prints and what is saved with each run as `scenario.resolved.yaml`.
///
/// Keys appear in parameter-table order (not hash order), so the text is byte-identical
/// across runs and processes; loading it gives an equal `ScenarioConfig`. Keys whose value
/// is unset (an optional derived at run time, such as `vm.min_free_kbytes`) are listed as
/// comments with their default.
public enum ScenarioRenderer {
    public static func yaml(_ config: ScenarioConfig) -> String {
        var lines = [
            "# Resolved scenario: every default filled in. Loading this file gives the same scenario."
        ]
        do {
            let value = try OrderedEncoding.encode(config)
            var emitter = Emitter()
            emitter.mapping(value.mapPairs ?? [], schema: .table(ScenarioConfig.self, isRoot: true), indent: 0)
            lines += emitter.lines
        } catch {
            lines.append("# error: the scenario could not be encoded: \(error)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// What the renderer knows about a value from the parameter tables.
enum RenderSchema {
    case none
    case table(any ParameterSchema.Type, isRoot: Bool)
    case list(any ParameterSchema.Type)
    case variant(discriminator: String, cases: [(name: String, table: any ParameterSchema.Type)])

    init(_ kind: ParameterKind) {
        switch kind {
        case .table(let t): self = .table(t, isRoot: false)
        case .list(let t): self = .list(t)
        case .variant(let d, let c): self = .variant(discriminator: d, cases: c)
        default: self = .none
        }
    }
}

struct Emitter {
    var lines: [String] = []

    /// The parameters of a table in reading order, with the variant case's parameters
    /// after the discriminator when the table is (or contains) a variant.
    static func orderedParams(_ schema: RenderSchema, pairs: [(key: String, value: EncodedValue)]) -> [ParameterInfo] {
        func caseParams(_ d: String, _ cases: [(name: String, table: any ParameterSchema.Type)]) -> [ParameterInfo] {
            guard case .string(let name)? = pairs.first(where: { $0.key == d })?.value,
                let t = cases.first(where: { $0.name == name })?.table
            else { return [] }
            return t.parameters.filter { $0.key != d }
        }
        switch schema {
        case .table(let t, let isRoot):
            var out: [ParameterInfo] = []
            for p in t.parameters {
                if isRoot && p.key == SchemaWalker.templatesKey { continue }
                out.append(p)
                if case .variant(let d, let cases) = p.kind, d == p.key { out += caseParams(d, cases) }
            }
            return out
        case .variant(let d, let cases):
            return [ParameterInfo(d, .string, default: "", "")] + caseParams(d, cases)
        case .none, .list:
            return []
        }
    }

    mutating func mapping(_ pairs: [(key: String, value: EncodedValue)], schema: RenderSchema, indent: Int) {
        let pad = String(repeating: " ", count: indent)
        let params = Emitter.orderedParams(schema, pairs: pairs)
        var ordered: [(key: String, value: EncodedValue?, param: ParameterInfo?)] = []
        for p in params {
            ordered.append((p.key, pairs.first(where: { $0.key == p.key })?.value, p))
        }
        for pair in pairs where !params.contains(where: { $0.key == pair.key }) {
            ordered.append((pair.key, pair.value, nil))
        }
        let isRoot: Bool
        if case .table(_, true) = schema { isRoot = true } else { isRoot = false }
        for entry in ordered {
            let key = YAMLText.string(entry.key)
            guard let value = entry.value else {
                // Unset (a derived default): show it as a comment.
                if let p = entry.param {
                    let d = p.defaultValue
                    lines.append("\(pad)# \(entry.key): unset" + (d.isEmpty ? "" : d.hasPrefix("(") ? " \(d)" : " (default: \(d))"))
                }
                continue
            }
            let childSchema = entry.param.map { RenderSchema($0.kind) } ?? .none
            switch value {
            case .map(let sub) where !sub.isEmpty:
                if isRoot { lines.append("") }
                lines.append("\(pad)\(key):")
                mapping(sub, schema: childSchema, indent: indent + 2)
            case .list(let items) where !items.isEmpty:
                if isRoot { lines.append("") }
                lines.append("\(pad)\(key):")
                list(items, schema: childSchema, indent: indent + 2)
            case .string(let text) where YAMLText.literalBlock(text) != nil:
                // Several lines of prose (`notes`) read best as a literal block.
                lines.append("\(pad)\(key): " + YAMLText.literalBlock(text)!.header)
                for l in YAMLText.literalBlock(text)!.lines { lines.append(l.isEmpty ? "" : pad + "  " + l) }
            default:
                lines.append("\(pad)\(key): \(Emitter.scalar(value))")
            }
        }
    }

    mutating func list(_ items: [EncodedValue], schema: RenderSchema, indent: Int) {
        let pad = String(repeating: " ", count: indent)
        let itemSchema: RenderSchema
        if case .list(let t) = schema { itemSchema = .table(t, isRoot: false) } else { itemSchema = .none }
        for item in items {
            switch item {
            case .map(let sub) where !sub.isEmpty:
                var inner = Emitter()
                inner.mapping(sub, schema: itemSchema, indent: indent + 2)
                if let first = inner.lines.first, !first.hasPrefix(pad + "  #") {
                    lines.append(pad + "- " + first.dropFirst(indent + 2))
                    lines += inner.lines.dropFirst()
                } else {
                    lines.append(pad + "-")
                    lines += inner.lines
                }
            case .list(let sub) where !sub.isEmpty:
                lines.append(pad + "-")
                list(sub, schema: .none, indent: indent + 2)
            default:
                lines.append("\(pad)- \(Emitter.scalar(item))")
            }
        }
    }

    static func scalar(_ v: EncodedValue) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d): return YAMLText.double(d)
        case .string(let s): return YAMLText.string(s)
        case .list: return "[]"
        case .map: return "{}"
        }
    }
}
