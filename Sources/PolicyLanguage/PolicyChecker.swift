/// A problem `PolicyProgram.check` finds without running the policy.
public struct PolicyDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }
    public var severity: Severity
    public var kind: PolicyError.Kind
    public var message: String
    public var location: SourceLocation
    /// `file:line:column: error: message`.
    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}

/// What `check` found: the problems, and what the policy reads and sets.
public struct PolicyCheckReport: Sendable {
    public var diagnostics: [PolicyDiagnostic]
    /// Fields read on Host (as `Host.f`, `Stat` or `StatAvg`), in first-use order.
    public var hostFieldsRead: [String]
    public var guestFieldsRead: [String]
    /// Controls set with a literal name, in first-use order.
    public var hostControlsSet: [String]
    public var guestControlsSet: [String]
    /// Functions defined with def, in order.
    public var functions: [String]
    public var errors: [PolicyDiagnostic] { diagnostics.filter { $0.severity == .error } }
}

extension PolicyProgram {
    /// Checks the program against MOM's language and data model without running it:
    /// special forms with the wrong number or shape of arguments, calls of undefined
    /// functions or with the wrong number of arguments, symbols no expression defines,
    /// fields, methods, controls and properties Host and the guests do not have.
    ///
    /// Scoping is dynamic, so a name counts as defined if any `defvar`, `let`, `with`,
    /// parameter or injected variable defines it anywhere. Whether `x` in `x.f` is Host or a
    /// guest is inferred from what is bound to `x` anywhere (`with Guests x`, a call
    /// `(f guest)` binding a parameter); a name bound to anything else is not checked.
    /// `injectedVariables` are the names set from outside (`balloonEnabled`).
    public func check(injectedVariables: [String] = []) -> PolicyCheckReport {
        var checker = PolicyChecker(map: map, expressions: expressions, injected: injectedVariables)
        return checker.run()
    }
}

/// What a name may hold, as far as the checker can tell.
enum CheckType: Hashable { case host, guest, guests, other }

struct PolicyChecker {
    let map: SourceMap
    let expressions: [PolicyNode]
    let injected: [String]
    var diagnostics: [PolicyDiagnostic] = []
    var types: [String: Set<CheckType>] = [:]
    /// Names some defvar, let, with, parameter or injection defines (set does not define).
    var defined: Set<String> = []
    /// Each def of a function: its parameter names (nil when the list is malformed) and the
    /// offset of the def.
    var functions: [String: [(params: [String]?, offset: Int)]] = [:]
    var functionOrder: [String] = []
    var used: Set<String> = []
    var hostFields: [String] = [], guestFields: [String] = []
    var hostControls: [String] = [], guestControls: [String] = []

    init(map: SourceMap, expressions: [PolicyNode], injected: [String]) {
        self.map = map; self.expressions = expressions; self.injected = injected
    }

    mutating func run() -> PolicyCheckReport {
        types["Host"] = [.host]
        types["Guests"] = [.guests]
        for b in PolicyBuiltin.allCases { types[b.rawValue] = [.other] }
        for v in injected { types[v, default: []].insert(.other) }
        defined = Set(types.keys)
        // Definitions and types, to a fixed point (each pass can only add).
        for e in expressions { collectFunctions(e) }
        var changed = true
        var passes = 0
        while changed && passes < 20 {
            changed = false
            passes += 1
            for e in expressions { infer(e, &changed) }
        }
        for e in expressions { walk(e) }
        for v in injected where !used.contains(v) {
            let names = Array(types.keys).sorted()
            diagnostics.append(
                PolicyDiagnostic(
                    severity: .warning, kind: .undefinedSymbol,
                    message: "the injected variable \(v) is not used by the policy\(Suggest.didYouMean(v, names))",
                    location: map.location(0)))
        }
        return PolicyCheckReport(
            diagnostics: diagnostics, hostFieldsRead: hostFields, guestFieldsRead: guestFields,
            hostControlsSet: hostControls, guestControlsSet: guestControls, functions: functionOrder)
    }

    // MARK: Pass 1: functions and types

    /// The head name of a list: a symbol, or an operator's form name.
    static func head(_ items: [PolicyNode]) -> String? {
        guard case .token(let t)? = items.first else { return nil }
        switch t.kind {
        case .symbol(let s): return s
        case .op(let o): return SpecialForm.operators[o]?.rawValue
        default: return nil
        }
    }

    mutating func collectFunctions(_ node: PolicyNode) {
        guard let items = node.listItems else { return }
        if let h = Self.head(items), h == "def" || h == "defun", items.count == 4, let name = items[1].symbol {
            if functions[name] == nil { functionOrder.append(name) }
            let params = items[2].listItems.flatMap { ps -> [String]? in
                let names = ps.compactMap(\.symbol)
                return names.count == ps.count ? names : nil
            }
            functions[name, default: []].append((params, node.offset))
        }
        for i in items { collectFunctions(i) }
    }

    func typeOf(_ node: PolicyNode) -> Set<CheckType> {
        if let s = node.symbol, !s.contains("."), s != "nil" { return types[s] ?? [] }
        return [.other]
    }

    mutating func bind(_ name: String, _ t: Set<CheckType>, _ changed: inout Bool, defines: Bool = true) {
        if defines { defined.insert(name) }
        let before = types[name] ?? []
        let after = before.union(t.isEmpty ? [] : t)
        if types[name] == nil || after != before { types[name] = after; changed = true }
    }

    mutating func infer(_ node: PolicyNode, _ changed: inout Bool) {
        guard let items = node.listItems else { return }
        if let h = Self.head(items) {
            switch h {
            case "defvar", "set", "setq":
                if items.count == 3, let n = items[1].symbol { bind(n, typeOf(items[2]), &changed, defines: h == "defvar") }
            case "let":
                if items.count >= 3, let bs = items[1].listItems {
                    for b in bs { if let p = b.listItems, p.count == 2, let n = p[0].symbol { bind(n, typeOf(p[1]), &changed) } }
                }
            case "with":
                if items.count == 4, let l = items[1].symbol, let it = items[2].symbol {
                    var t: Set<CheckType> = []
                    let lt: Set<CheckType> = l.contains(".") ? [.other] : (types[l] ?? [])
                    if lt.contains(.guests) { t.insert(.guest) }
                    if lt.contains(.other) || lt.contains(.host) || lt.contains(.guest) { t.insert(.other) }
                    bind(it, t, &changed)
                }
            case "def", "defun":
                if items.count == 4, let ps = items[2].listItems {
                    for p in ps { if let n = p.symbol { bind(n, [], &changed) } }
                }
            default:
                if let defs = functions[h], SpecialForm(rawValue: h) == nil, h != "eval" {
                    // A call binds the parameters of every def of h with this many.
                    let args = Array(items.dropFirst())
                    for d in defs {
                        guard let params = d.params, params.count == args.count else { continue }
                        for (p, a) in zip(params, args) { bind(p, typeOf(a), &changed) }
                    }
                }
            }
        }
        for i in items { infer(i, &changed) }
    }

    // MARK: Pass 2: diagnostics

    mutating func report(_ kind: PolicyError.Kind, _ message: String, _ node: PolicyNode, warning: Bool = false) {
        diagnostics.append(PolicyDiagnostic(severity: warning ? .warning : .error, kind: kind, message: message, location: map.location(node.offset)))
    }

    func isDefined(_ name: String) -> Bool { defined.contains(name) }

    var allNames: [String] { Array(types.keys).sorted() + functionOrder }

    static func note(_ list: inout [String], _ name: String) { if !list.contains(name) { list.append(name) } }

    /// Checks a symbol used as a value.
    mutating func checkSymbol(_ name: String, _ node: PolicyNode) {
        if name == "nil" { return }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let obj = parts[0]
        used.insert(obj)
        guard isDefined(obj) else {
            var hint = Suggest.didYouMean(obj, allNames)
            if MOMEngineVariable(rawValue: obj) != nil {
                hint += " (\(obj) is injected by the oVirt engine: define it with defvar, as vdsm's 00-defines.policy does, or pass --set \(obj)=VALUE)"
            } else if functions[obj] != nil {
                hint += " (\(obj) is a function: call it as (\(obj) ...))"
            }
            report(.undefinedSymbol, "undefined symbol \(obj)\(hint)", node)
            return
        }
        guard parts.count > 1 else { return }
        if parts.count > 2 {
            report(.unknownField, "\(name): MOM reads only the first attribute (\(parts[0]).\(parts[1])) and ignores the rest", node, warning: true)
        }
        checkAttribute(obj, parts[1], node, called: false)
    }

    /// The entity kinds a name may hold, if it holds nothing else.
    func entityKinds(_ obj: String) -> [MOMEntityKind]? {
        guard let t = types[obj], !t.isEmpty, t.isSubset(of: [.host, .guest]) else { return nil }
        return MOMEntityKind.allCases.filter { t.contains($0 == .host ? .host : .guest) }
    }

    mutating func noteField(_ kinds: [MOMEntityKind], _ field: String) {
        for k in kinds where k.fieldIndex(field) != nil {
            if k == .host { Self.note(&hostFields, field) } else { Self.note(&guestFields, field) }
        }
    }

    mutating func checkAttribute(_ obj: String, _ attr: String, _ node: PolicyNode, called: Bool) {
        guard let kinds = entityKinds(obj) else { return }
        let isMethod = MOMEntityMethod(rawValue: attr) != nil
        let isField = kinds.contains { $0.fieldIndex(attr) != nil }
        if called && !isMethod {
            if isField {
                report(.type, "\(obj).\(attr) is a field, not a method: write \(obj).\(attr) without parentheses", node)
            } else {
                let names = MOMEntityMethod.allCases.map(\.rawValue)
                report(.unknownField, "\(obj) has no method \(attr)\(Suggest.didYouMean(attr, names)) (methods: \(names.joined(separator: ", ")))", node)
            }
            return
        }
        if isMethod || isField {
            if isField { noteField(kinds, attr) }
            return
        }
        let candidates = Array(Set(kinds.flatMap(\.fieldNames))).sorted() + MOMEntityMethod.allCases.map(\.rawValue)
        let what = kinds.count == 1 ? kinds[0].displayName : "Host or a guest"
        report(.unknownField, "\(obj).\(attr): \(what) has no field '\(attr)'\(Suggest.didYouMean(attr, candidates))", node)
    }

    mutating func walk(_ node: PolicyNode) {
        switch node {
        case .token(let t):
            switch t.kind {
            case .symbol(let s): checkSymbol(s, node)
            case .op(let o): report(.malformed, "operator \(o) is not a value: an operator comes first in a list, as in (\(o) a b)", node)
            default: break
            }
        case .list(let l):
            walkList(l, node)
        }
    }

    mutating func walkList(_ l: PolicyList, _ node: PolicyNode) {
        let items = l.items
        guard let first = items.first else {
            report(.value, "an empty list () cannot be evaluated: a call needs a function name first", node)
            return
        }
        let args = Array(items.dropFirst())
        guard case .token(let ht) = first else {
            report(.malformed, "the first item of a list must be a function name, not a list", first)
            for a in items { walk(a) }
            return
        }
        let name: String, display: String
        switch ht.kind {
        case .symbol(let s): name = s; display = s
        case .op(let o): name = SpecialForm.operators[o]!.rawValue; display = o
        default:
            report(
                .malformed,
                "\(map.excerpt(ht.offset, ht.offset + ht.length)) cannot be called: the first item of a list must be a function name or an operator (write (+ 2 2), not (2 + 2))",
                first)
            for a in args { walk(a) }
            return
        }
        if let form = SpecialForm(rawValue: name), !(types[name]?.contains(.other) ?? false) {
            walkForm(form, display, args, first, node)
            return
        }
        if name == "eval" {
            if args.isEmpty { report(.value, "an empty block { } has no value", node) }
            for a in args { walk(a) }
            return
        }
        for a in args { walk(a) }
        if let builtin = PolicyBuiltin(rawValue: name), types[name] == [.other] {
            if builtin == .abs && args.count != 1 { report(.arity, "abs takes 1 argument, got \(args.count)", first) }
            if builtin == .debug && args.isEmpty { report(.arity, "debug takes at least 1 argument, got 0", first) }
            used.insert(name)
            return
        }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 1 {
            let obj = parts[0]
            used.insert(obj)
            guard isDefined(obj) else { report(.undefinedSymbol, "undefined symbol \(obj)\(Suggest.didYouMean(obj, allNames))", first); return }
            checkAttribute(obj, parts[1], first, called: true)
            if let kinds = entityKinds(obj), let m = MOMEntityMethod(rawValue: parts[1]) { checkMethod(kinds, obj, m, args, first) }
            return
        }
        if let defs = functions[name] {
            used.insert(name)
            let arities = defs.compactMap { $0.params?.count }
            if !arities.isEmpty, !arities.contains(args.count) {
                let want = Array(Set(arities)).sorted().map(String.init).joined(separator: " or ")
                report(
                    .arity,
                    "function \(name) takes \(want) argument\(arities == [1] ? "" : "s"), got \(args.count) (defined at \(map.location(defs[0].offset).fileAndLine))",
                    first)
            }
            return
        }
        if isDefined(name) { used.insert(name); return }
        let candidates = allNames + SpecialForm.allCases.map(\.rawValue)
        report(.undefinedSymbol, "unknown function \(name): not defined with def, not a builtin\(Suggest.didYouMean(name, candidates))", first)
    }

    mutating func checkMethod(_ kinds: [MOMEntityKind], _ obj: String, _ m: MOMEntityMethod, _ args: [PolicyNode], _ at: PolicyNode) {
        guard m.arity.contains(args.count) else {
            let want = m.arity.count == 1 ? "\(m.arity.lowerBound)" : "\(m.arity.lowerBound) or \(m.arity.upperBound)"
            report(.arity, "\(obj).\(m.rawValue) takes \(want) argument\(m.arity.upperBound == 1 ? "" : "s"), got \(args.count)", at)
            return
        }
        guard case .token(let t) = args[0], case .string(let s) = t.kind else { return }
        switch m {
        case .Stat, .StatAvg:
            if kinds.contains(where: { $0.fieldIndex(s) != nil }) { noteField(kinds, s); return }
            let names = Array(Set(kinds.flatMap(\.fieldNames))).sorted()
            report(
                .unknownField,
                "\(obj).\(m.rawValue): \"\(s)\" is not a field of \(kinds.count == 1 ? kinds[0].displayName : "Host or a guest")\(Suggest.didYouMean(s, names))",
                args[0])
        case .Control:
            if let k = kinds.first(where: { $0.controls.contains { $0.name == s } }) {
                if k == .host { Self.note(&hostControls, s) } else { Self.note(&guestControls, s) }
                return
            }
            let names = kinds.flatMap { $0.controls.map(\.name) }
            report(
                .unknownControl,
                "\(obj).Control: \"\(s)\" is not a control of \(kinds.count == 1 ? kinds[0].displayName : "Host or a guest")\(Suggest.didYouMean(s, names)) (controls: \(names.joined(separator: ", ")); MOM would ignore it silently)",
                args[0])
        case .Prop:
            let names = kinds.flatMap { $0.properties.map(\.name) }
            if !names.contains(s) {
                report(
                    .unknownField, "\(obj).Prop: \"\(s)\" is not a property\(Suggest.didYouMean(s, names)) (properties: \(names.joined(separator: ", ")))",
                    args[0])
            }
        case .SetVar, .GetVar, .GetControl:
            break
        }
    }

    mutating func walkForm(_ form: SpecialForm, _ display: String, _ args: [PolicyNode], _ head: PolicyNode, _ node: PolicyNode) {
        let (count, variadic) = form.arity
        if variadic ? args.count < count : args.count != count {
            let what = variadic ? "at least \(count)" : "\(count)"
            report(.arity, "\(display) takes \(what) argument\(count == 1 ? "" : "s"), got \(args.count)", head)
            for a in args { walk(a) }
            return
        }
        func requireSymbol(_ n: PolicyNode, _ position: String) -> String? {
            if let s = n.symbol { return s }
            report(.malformed, "\(display) needs a symbol as its \(position) argument, found \(map.excerpt(n.offset, n.end))", n)
            return nil
        }
        switch form {
        case .def, .defun:
            if let name = requireSymbol(args[0], "first"), let defs = functions[name], defs.count > 1, defs[0].offset != node.offset {
                report(
                    .malformed, "\(name) is defined again (first at \(map.location(defs[0].offset).fileAndLine)): the later definition replaces it", head,
                    warning: true)
            }
            if let ps = args[1].listItems {
                for p in ps where p.symbol == nil {
                    report(.malformed, "a parameter of \(args[0].symbol ?? "a function") must be a symbol, found \(map.excerpt(p.offset, p.end))", p)
                }
            } else {
                report(.malformed, "def needs a list of parameters as its second argument, found \(map.excerpt(args[1].offset, args[1].end))", args[1])
            }
            walk(args[2])
        case .set, .setq:
            if let name = requireSymbol(args[0], "first") {
                used.insert(name)
                if !isDefined(name) {
                    report(
                        .undefinedSymbol, "\(display) \(name): no defvar, let, parameter or with defines \(name)\(Suggest.didYouMean(name, allNames))", args[0])
                }
            }
            walk(args[1])
        case .defvar:
            _ = requireSymbol(args[0], "first")
            walk(args[1])
        case .let:
            if let bs = args[0].listItems {
                for b in bs {
                    guard let p = b.listItems, p.count == 2, p[0].symbol != nil else {
                        report(.malformed, "let: each binding must be a list (symbol value), found \(map.excerpt(b.offset, b.end))", b)
                        continue
                    }
                    walk(p[1])
                }
            } else {
                report(.malformed, "let needs a list of (symbol value) bindings as its first argument", args[0])
            }
            for a in args.dropFirst() { walk(a) }
        case .with:
            if let l = requireSymbol(args[0], "first") {
                checkSymbol(l, args[0])
                if !l.contains("."), let t = types[l], !t.isEmpty, t.isSubset(of: [.host, .guest]) {
                    report(.type, "with: \(l) is an entity, not a list (iterate over Guests)", args[0])
                }
            }
            _ = requireSymbol(args[1], "second")
            walk(args[2])
        default:
            for a in args { walk(a) }
        }
    }
}
