/// The special forms and operators of MOM's evaluator (its `c_*` methods), with the argument
/// kinds their docstrings declare: `symbol` (not evaluated, must be a symbol), `code` (not
/// evaluated) and `value` (evaluated before the form runs).
enum SpecialForm: String, CaseIterable {
    case def, defun, set, setq, defvar, `let`, with, `if`
    case add, sub, mul, div, lt, gt, lte, gte, eq, neq, shl, shr
    case and, or, not, min, max, null, valid

    /// Operators as they are written, and the form each names (MOM's `operator_map`).
    static let operators: [String: SpecialForm] = [
        "+": .add, "-": .sub, "*": .mul, "/": .div, "<": .lt, ">": .gt, "<=": .lte, ">=": .gte,
        "<<": .shl, ">>": .shr, "==": .eq, "!=": .neq,
    ]

    /// Fixed argument count, or the least for the variadic forms.
    var arity: (count: Int, variadic: Bool) {
        switch self {
        case .def, .defun, .with, .if: return (3, false)
        case .set, .setq, .defvar: return (2, false)
        case .let: return (2, true)
        case .add, .sub, .mul, .div, .lt, .gt, .lte, .gte, .eq, .neq, .shl, .shr: return (2, false)
        case .and, .or, .min, .max: return (1, true)
        case .not: return (1, false)
        case .null, .valid: return (0, true)
        }
    }
}

/// A function defined with `def`/`defun`: its parameter list and body, unevaluated.
struct UserFunction {
    var params: PolicyNode
    var body: PolicyNode
    var offset: Int
}

/// An entity during one evaluation: its samples, properties, and what the policy set on it.
struct EntityState {
    var kind: MOMEntityKind
    /// `Host` or `guest 'vm1'`.
    var label: String
    var samples: [[PolicyValue]]
    var properties: [(name: String, value: PolicyValue)]
    var controls: [PolicyControlSetting] = []
    var variables: [String: PolicyValue] = [:]
}

/// A binding of a variable: the scope level that holds it and its value.
struct Binding {
    var level: Int
    var value: PolicyValue
}

/// A call or iteration under way, rendered only when an error needs a trace.
enum Frame {
    case call(name: Int, offset: Int)
    case with(list: Int, item: Int, value: PolicyValue, offset: Int)
}

/// MOM's evaluator (`Evaluator` in `mom/Policy/Parser.py`), rule for rule.
///
/// - Scopes are dynamic: a function body sees the variables of its caller's scopes (vdsm's
///   `guest_qos (quest)` reads the caller's `guest`). A call, a `let` and each `with`
///   iteration push a scope; `if` and `{ }` do not.
/// - A list `(head args...)` is evaluated by looking `head` up, in this order: a variable
///   whose value is not nil is called with the evaluated arguments (`abs`, `debug`,
///   `guest.Control`); a special form or operator; `eval` (what `{ }` becomes); a function
///   defined with `def`.
/// - `defvar` sets a name in the innermost scope unless it is already there; `set`/`setq`
///   assigns the innermost scope that has the name and fails if none has.
/// - A call binds its parameters one after the other in the new scope, each argument
///   evaluated after the previous parameter is bound (so `(f 5 a)` for `(def f (a b) b)`
///   gives 5).
/// - `and`/`or` evaluate every argument, then return the first false (true) one or the last.
/// - `Name.attr` finds the innermost `Name` that has `attr`; only the first `.attr` counts.
///
/// MOM keeps a list of scope dictionaries; this evaluator keeps, for each interned symbol,
/// the stack of its bindings (innermost last) and, for each scope level, the symbols it
/// bound, which finds the same binding without hashing strings.
final class PolicyInterpreter {
    let map: SourceMap
    let symbols: SymbolTable
    /// Bindings of each symbol, innermost last.
    var bindings: [[Binding]]
    /// The symbols bound at each scope level (index 0: the global scope).
    var bound: [[Int]] = [[]]
    var functions: [UserFunction?]
    var entities: [EntityState] = []
    var debugMessages: [PolicyDebugMessage] = []
    /// Calls and iterations under way, outermost first (for error traces).
    var frames: [Frame] = []
    var depth = 0
    /// The innermost list being evaluated (quoted in error messages).
    var currentList: PolicyNode?

    /// Nested list evaluations allowed: 300, about 100 nested calls of a recursive policy
    /// function, where MOM (in Python, recursion limit 1000) stops at 97 for the same
    /// function. It keeps the stack used well inside a worker thread's.
    static let maxDepth = 300

    var level: Int { bound.count - 1 }

    init(map: SourceMap, symbols: SymbolTable, input: PolicyInput) {
        self.map = map
        self.symbols = symbols
        bindings = [[Binding]](repeating: [], count: symbols.count)
        functions = [UserFunction?](repeating: nil, count: symbols.count)
        for b in PolicyBuiltin.allCases { define(symbols.id(b.rawValue)!, .builtin(b)) }
        var host = EntityState(kind: .host, label: "Host", samples: input.host.samples.map(\.values), properties: [])
        if let i = input.host.interval { host.properties.append(("interval", .int(i))) }
        entities.append(host)
        var guests: [PolicyValue] = []
        for g in input.guests {
            var props: [(name: String, value: PolicyValue)] = [("name", .string(g.name))]
            if let u = g.uuid { props.append(("uuid", .string(u))) }
            if let p = g.pid { props.append(("pid", .int(p))) }
            guests.append(.entity(entities.count))
            entities.append(EntityState(kind: .guest, label: "guest '\(g.name)'", samples: g.samples.map(\.values), properties: props))
        }
        define(SymbolTable.hostID, .entity(0))
        define(SymbolTable.guestsID, .list(guests))
        // A variable the program never names cannot be read: it needs no binding.
        for v in input.variables { if let id = symbols.id(v.name) { define(id, v.value) } }
    }

    func entityName(_ i: Int) -> String { i < entities.count ? entities[i].label : "entity #\(i)" }

    // MARK: Scopes

    /// MOM's `stack.set(name, value, alloc=True)`: binds in the innermost scope unless that
    /// scope already has the name; returns the value the name then has there.
    @discardableResult
    func define(_ id: Int, _ value: PolicyValue) -> PolicyValue {
        if let last = bindings[id].last, last.level == level { return last.value }
        bindings[id].append(Binding(level: level, value: value))
        bound[level].append(id)
        return value
    }

    func pushScope() { bound.append([]) }

    func popScope() {
        for id in bound[level] { bindings[id].removeLast() }
        bound.removeLast()
    }

    // MARK: Errors

    func error(_ kind: PolicyError.Kind, _ message: String, at offset: Int) -> PolicyError {
        let expr = currentList.map { map.excerpt($0.offset, $0.end) }
        return PolicyError(kind, message, at: map.location(offset), expression: expr, trace: frames.reversed().map(describe))
    }

    func describe(_ f: Frame) -> String {
        switch f {
        case .call(let name, let offset):
            return "in \(symbols[name].name) (called at \(map.location(offset).fileAndLine))"
        case .with(let list, let item, let value, let offset):
            let l = symbols[list].name, i = symbols[item].name
            return "for \(i) = \(value.pythonRepr(entityName: entityName)) (with \(l) \(i) at \(map.location(offset).fileAndLine))"
        }
    }

    func error(_ e: OperationError, at offset: Int) -> PolicyError { error(e.kind, e.message, at: offset) }

    /// Every name a suggestion may come from.
    var knownNames: [String] {
        var names = Set<String>()
        for (id, b) in bindings.enumerated() where !b.isEmpty { names.insert(symbols[id].name) }
        for (id, f) in functions.enumerated() where f != nil { names.insert(symbols[id].name) }
        return names.sorted()
    }

    func undefined(_ id: Int, at offset: Int) -> PolicyError {
        let info = symbols[id]
        let name = info.name
        if let attr = info.attribute {
            let obj = symbols[info.object].name
            if let v = bindings[info.object].last?.value {
                if case .entity(let e) = v {
                    let ent = entities[e]
                    if ent.samples.isEmpty, ent.kind.fieldIndex(attr) != nil {
                        return error(
                            .unknownField,
                            "\(obj).\(attr): \(ent.label) has no sample yet, so it has no fields (MOM runs a policy only after the first collection; give \(ent.kind == .host ? "host" : "guest") data with --host, --guest or --sample)",
                            at: offset)
                    }
                    let candidates = ent.kind.fieldNames + MOMEntityMethod.allCases.map(\.rawValue)
                    let hint = Suggest.didYouMean(attr, candidates)
                    let list = hint.isEmpty ? " (fields: \(ent.kind.fieldNames.joined(separator: ", ")))" : ""
                    return error(.unknownField, "\(ent.label) has no field or method '\(attr)'\(hint)\(list)", at: offset)
                }
                return error(.unknownField, "\(obj) is a \(v.typeName), which has no attribute '\(attr)' (only Host and the guests have fields)", at: offset)
            }
            return error(.undefinedSymbol, "undefined symbol \(obj) (in \(name))\(Suggest.didYouMean(obj, knownNames))", at: offset)
        }
        var hint = Suggest.didYouMean(name, knownNames)
        if MOMEngineVariable(rawValue: name) != nil {
            hint +=
                " (\(name) is one of the variables the oVirt engine injects: define it with defvar, as vdsm's 00-defines.policy does, or set it from outside)"
        }
        return error(.undefinedSymbol, "undefined symbol \(name)\(hint)", at: offset)
    }

    // MARK: Names

    /// MOM's `VariableStack.get`: the innermost binding of the name; for `obj.attr`, the
    /// innermost `obj` that has `attr`. Nil when nothing matches.
    func lookup(_ id: Int) -> PolicyValue? {
        let info = symbols[id]
        guard info.attribute != nil else { return bindings[id].last?.value }
        let b = bindings[info.object]
        var k = b.count - 1
        while k >= 0 {
            if let a = attribute(of: b[k].value, info) { return a }
            k -= 1
        }
        return nil
    }

    /// An entity's attribute: a method, or a field of its latest sample.
    func attribute(of v: PolicyValue, _ info: SymbolInfo) -> PolicyValue? {
        guard case .entity(let e) = v else { return nil }
        if let m = info.method { return .method(entity: e, m) }
        let ent = entities[e]
        guard let last = ent.samples.last, let i = ent.kind == .host ? info.hostField : info.guestField else { return nil }
        return last[i]
    }

    // MARK: Evaluation

    func eval(_ node: PolicyNode) throws -> PolicyValue {
        switch node {
        case .token(let t):
            return try evalToken(t)
        case .list(let l):
            depth += 1
            defer { depth -= 1 }
            if depth > Self.maxDepth { throw tooDeep(at: l.open.offset) }
            let saved = currentList
            currentList = node
            defer { currentList = saved }
            return try evalList(l)
        }
    }

    @inline(never)
    func tooDeep(at offset: Int) -> PolicyError {
        error(
            .recursion, "evaluation nested more than \(Self.maxDepth) deep: runaway recursion? (MOM, in Python, stops at about 100 nested calls of a function)",
            at: offset)
    }

    func evalToken(_ t: PolicyToken) throws -> PolicyValue {
        switch t.kind {
        case .number(let v): return v
        case .string(let s): return .string(s)
        case .symbol:
            if t.symbol == SymbolTable.nilID { return .none }
            if let v = lookup(t.symbol) { return v }
            throw undefined(t.symbol, at: t.offset)
        case .op(let o):
            throw error(.malformed, "operator \(o) is not a value: an operator comes first in a list, as in (\(o) a b)", at: t.offset)
        case .open(let c), .close(let c):
            throw error(.syntax, "unexpected '\(c)'", at: t.offset)
        }
    }

    func evalAll(_ nodes: ArraySlice<PolicyNode>) throws -> [PolicyValue] {
        var out: [PolicyValue] = []
        out.reserveCapacity(nodes.count)
        for n in nodes { out.append(try eval(n)) }
        return out
    }

    func evalList(_ l: PolicyList) throws -> PolicyValue {
        guard let head = l.items.first, case .token(let ht) = head, ht.symbol >= 0 else { throw badHead(l) }
        let args = l.items[1...]
        let id = ht.symbol
        // 1. A variable holding something other than nil is called.
        if let v = lookup(id) {
            if case .none = v {
            } else {
                return try call(v, try evalAll(args), name: display(ht), at: ht.offset)
            }
        }
        // 2. Special forms and operators.
        if let form = symbols[id].form {
            return try special(form, ht, args)
        }
        // 3. eval: { ... } blocks.
        if id == SymbolTable.evalID {
            guard !args.isEmpty else {
                throw error(.value, "an empty block { } has no value (MOM fails with 'list index out of range')", at: ht.offset)
            }
            var last = PolicyValue.none
            for a in args { last = try eval(a) }
            return last
        }
        // 4. Functions defined with def.
        if let f = functions[id] {
            return try callFunction(id, f, args, at: ht.offset)
        }
        throw unknownFunction(id, at: ht.offset)
    }

    /// The head as written: a symbol, or an operator.
    func display(_ t: PolicyToken) -> String {
        if case .op(let o) = t.kind { return o }
        return symbols[t.symbol].name
    }

    /// The error for a list that does not start with a function name.
    @inline(never)
    func badHead(_ l: PolicyList) -> PolicyError {
        guard let head = l.items.first else {
            return error(
                .value, "an empty list () has no value: a call needs a function name first (MOM fails with 'list index out of range')", at: l.open.offset)
        }
        guard case .token(let ht) = head else {
            return error(.malformed, "the first item of a list must be a function name, not a list", at: head.offset)
        }
        if case .open(let c) = ht.kind { return error(.syntax, "unexpected '\(c)'", at: ht.offset) }
        if case .close(let c) = ht.kind { return error(.syntax, "unexpected '\(c)'", at: ht.offset) }
        return error(
            .malformed,
            "\(map.excerpt(ht.offset, ht.offset + ht.length)) cannot be called: the first item of a list must be a function name or an operator (write (+ 2 2), not (2 + 2))",
            at: ht.offset)
    }

    @inline(never)
    func unknownFunction(_ id: Int, at offset: Int) -> PolicyError {
        if symbols[id].attribute != nil { return undefined(id, at: offset) }
        let name = symbols[id].name
        let candidates = knownNames + SpecialForm.allCases.map(\.rawValue)
        return error(.undefinedSymbol, "unknown function \(name): not defined with def, not a builtin\(Suggest.didYouMean(name, candidates))", at: offset)
    }

    /// Calls a value: an external function or an entity's method.
    func call(_ f: PolicyValue, _ args: [PolicyValue], name: String, at offset: Int) throws -> PolicyValue {
        switch f {
        case .builtin(.abs):
            guard args.count == 1 else { throw error(.arity, "abs() takes exactly one argument (\(args.count) given)", at: offset) }
            do { return try PythonOps.abs(args[0]) } catch { throw self.error(error, at: offset) }
        case .builtin(.debug):
            guard let last = args.last else {
                throw error(.arity, "debug needs at least one argument (MOM fails with 'tuple index out of range')", at: offset)
            }
            let items = args.map { $0.pythonRepr(entityName: entityName) }
            let tuple = "(" + items.joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
            debugMessages.append(PolicyDebugMessage(location: map.location(offset), text: "debug: " + tuple))
            return last
        case .method(let e, let m):
            return try callMethod(e, m, args, at: offset)
        default:
            throw error(.type, "'\(f.typeName)' object is not callable (\(name) is a variable holding \(f.pythonRepr(entityName: entityName)))", at: offset)
        }
    }

    func callFunction(_ id: Int, _ f: UserFunction, _ args: ArraySlice<PolicyNode>, at offset: Int) throws -> PolicyValue {
        guard let params = f.params.listItems, params.count == args.count else { throw callError(id, f, args.count, at: offset) }
        frames.append(.call(name: id, offset: offset))
        pushScope()
        for (p, a) in zip(params, args) {
            guard case .token(let pt) = p, case .symbol = pt.kind else { throw callError(id, f, args.count, at: offset) }
            define(pt.symbol, try eval(a))
        }
        let result = try eval(f.body)
        popScope()
        frames.removeLast()
        return result
    }

    /// Why a call of a def'd function cannot bind its parameters.
    @inline(never)
    func callError(_ id: Int, _ f: UserFunction, _ count: Int, at offset: Int) -> PolicyError {
        let name = symbols[id].name
        let defined = map.location(f.offset).fileAndLine
        guard let params = f.params.listItems else {
            return error(
                .malformed, "function \(name) (defined at \(defined)) has no parameter list: def takes a name, a list of parameters and a body", at: offset)
        }
        guard params.count == count else {
            return error(
                .arity, "function \(name) takes \(params.count) argument\(params.count == 1 ? "" : "s"), got \(count) (defined at \(defined))", at: offset)
        }
        return error(.malformed, "a parameter of \(name) (defined at \(defined)) is not a symbol", at: offset)
    }

    /// The symbol of an argument MOM's docstring types as `symbol`.
    func symbolArgument(_ n: PolicyNode, _ form: String, _ position: String) throws -> Int {
        guard case .token(let t) = n, case .symbol = t.kind else { throw notASymbol(n, form, position) }
        return t.symbol
    }

    @inline(never)
    func notASymbol(_ n: PolicyNode, _ form: String, _ position: String) -> PolicyError {
        error(.malformed, "malformed expression: \(form) needs a symbol as its \(position) argument, found \(map.excerpt(n.offset, n.end))", at: n.offset)
    }

    /// Runs a special form. Each form is its own function, so the recursion through
    /// `eval` keeps small stack frames (a deeply nested policy must not exhaust a thread's stack).
    func special(_ form: SpecialForm, _ head: PolicyToken, _ args: ArraySlice<PolicyNode>) throws -> PolicyValue {
        let offset = head.offset
        let (count, variadic) = form.arity
        if variadic ? args.count < count : args.count != count {
            throw arityError(display(head), count, variadic, args.count, at: offset)
        }
        let a = args.startIndex
        switch form {
        case .def, .defun: return try formDef(head, args)
        case .set, .setq: return try formSet(head, args[a], args[a + 1])
        case .defvar: return try formDefvar(head, args[a], args[a + 1])
        case .let: return try formLet(args)
        case .with: return try formWith(head, args)
        case .if: return try eval(try eval(args[a]).isTruthy ? args[a + 1] : args[a + 2])
        case .add, .sub, .mul, .div, .shl, .shr, .lt, .gt, .lte, .gte, .eq, .neq:
            return try formBinary(form, args[a], args[a + 1], at: offset)
        case .and:
            let values = try evalAll(args)
            return values.first { !$0.isTruthy } ?? values[values.count - 1]
        case .or:
            let values = try evalAll(args)
            return values.first { $0.isTruthy } ?? values[values.count - 1]
        case .not:
            return .bool(!(try eval(args[a]).isTruthy))
        case .min, .max:
            return try formMinMax(form == .min, try evalAll(args), at: offset)
        case .null:
            return .bool(try evalAll(args).allSatisfy(Self.isNullOrEmpty))
        case .valid:
            return .bool(!(try evalAll(args).contains { if case .none = $0 { return true } else { return false } }))
        }
    }

    static func isNullOrEmpty(_ v: PolicyValue) -> Bool {
        switch v {
        case .none: return true
        case .string(let s): return s.isEmpty
        case .list(let l): return l.isEmpty
        default: return false
        }
    }

    @inline(never)
    func arityError(_ display: String, _ count: Int, _ variadic: Bool, _ got: Int, at offset: Int) -> PolicyError {
        let what = variadic ? "at least \(count)" : "\(count)"
        return error(.arity, "\(display) takes \(what) argument\(count == 1 ? "" : "s"), got \(got)", at: offset)
    }

    func formDef(_ head: PolicyToken, _ args: ArraySlice<PolicyNode>) throws -> PolicyValue {
        let a = args.startIndex
        let id = try symbolArgument(args[a], display(head), "first")
        functions[id] = UserFunction(params: args[a + 1], body: args[a + 2], offset: head.offset)
        return .string(symbols[id].name)
    }

    func formSet(_ head: PolicyToken, _ target: PolicyNode, _ value: PolicyNode) throws -> PolicyValue {
        let id = try symbolArgument(target, display(head), "first")
        let v = try eval(value)
        guard !bindings[id].isEmpty else { throw setUndefinedError(display(head), symbols[id].name, at: head.offset) }
        bindings[id][bindings[id].count - 1].value = v
        return v
    }

    @inline(never)
    func setUndefinedError(_ display: String, _ name: String, at offset: Int) -> PolicyError {
        error(.undefinedSymbol, "\(display) \(name): undefined symbol \(name) (define it first with defvar)\(Suggest.didYouMean(name, knownNames))", at: offset)
    }

    func formDefvar(_ head: PolicyToken, _ target: PolicyNode, _ value: PolicyNode) throws -> PolicyValue {
        let id = try symbolArgument(target, display(head), "first")
        return define(id, try eval(value))
    }

    func formLet(_ args: ArraySlice<PolicyNode>) throws -> PolicyValue {
        let first = args[args.startIndex]
        guard let bindingList = first.listItems else {
            throw error(.malformed, "let needs a list of (symbol value) bindings as its first argument", at: first.offset)
        }
        pushScope()
        for b in bindingList {
            let (id, valueNode) = try letBinding(b)
            define(id, try eval(valueNode))
        }
        var result = PolicyValue.none
        for e in args.dropFirst() { result = try eval(e) }
        popScope()
        return result
    }

    func letBinding(_ b: PolicyNode) throws -> (Int, PolicyNode) {
        guard let pair = b.listItems, pair.count == 2 else {
            throw error(.malformed, "let: each binding must be a list (symbol value), found \(map.excerpt(b.offset, b.end))", at: b.offset)
        }
        guard case .token(let t) = pair[0], case .symbol = t.kind else {
            throw error(.malformed, "let: a binding must start with a symbol, found \(map.excerpt(pair[0].offset, pair[0].end))", at: pair[0].offset)
        }
        return (t.symbol, pair[1])
    }

    func formWith(_ head: PolicyToken, _ args: ArraySlice<PolicyNode>) throws -> PolicyValue {
        let a = args.startIndex
        let listID = try symbolArgument(args[a], display(head), "first")
        let itemID = try symbolArgument(args[a + 1], display(head), "second")
        let items = try iterate(listID, at: args[a].offset)
        var results: [PolicyValue] = []
        results.reserveCapacity(items.count)
        for item in items {
            frames.append(.with(list: listID, item: itemID, value: item, offset: head.offset))
            pushScope()
            define(itemID, item)
            results.append(try eval(args[a + 2]))
            popScope()
            frames.removeLast()
        }
        return .list(results)
    }

    /// The items `with` goes through: a list's elements, a string's characters.
    func iterate(_ listID: Int, at offset: Int) throws -> [PolicyValue] {
        guard let collection = lookup(listID) else { throw undefined(listID, at: offset) }
        switch collection {
        case .list(let l): return l
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        default:
            throw error(
                .type,
                "'\(collection.typeName)' object is not iterable (with goes through a list such as Guests; \(symbols[listID].name) is \(collection.pythonRepr(entityName: entityName)))",
                at: offset)
        }
    }

    func formBinary(_ form: SpecialForm, _ left: PolicyNode, _ right: PolicyNode, at offset: Int) throws -> PolicyValue {
        let x = try eval(left), y = try eval(right)
        do {
            switch form {
            case .add: return try PythonOps.add(x, y)
            case .sub: return try PythonOps.sub(x, y)
            case .mul: return try PythonOps.mul(x, y)
            case .div: return try PythonOps.div(x, y)
            case .shl: return try PythonOps.shift(x, y, left: true)
            case .shr: return try PythonOps.shift(x, y, left: false)
            case .lt: return .bool(try PythonOps.order("<", x, y))
            case .gt: return .bool(try PythonOps.order(">", x, y))
            case .lte: return .bool(try PythonOps.order("<=", x, y))
            case .gte: return .bool(try PythonOps.order(">=", x, y))
            case .eq: return .bool(PythonOps.equals(x, y))
            default: return .bool(!PythonOps.equals(x, y))
            }
        } catch {
            throw self.error(error, at: offset)
        }
    }

    func formMinMax(_ isMin: Bool, _ values: [PolicyValue], at offset: Int) throws -> PolicyValue {
        var best = values[0]
        do {
            for v in values.dropFirst() where try PythonOps.order(isMin ? "<" : ">", v, best) { best = v }
        } catch {
            throw self.error(error, at: offset)
        }
        return best
    }

    // MARK: Entity methods

    func callMethod(_ e: Int, _ m: MOMEntityMethod, _ args: [PolicyValue], at offset: Int) throws -> PolicyValue {
        let kind = entities[e].kind
        let label = entities[e].label
        guard m.arity.contains(args.count) else {
            let want = m.arity.count == 1 ? "\(m.arity.lowerBound)" : "\(m.arity.lowerBound) or \(m.arity.upperBound)"
            throw error(.arity, "\(m.rawValue) takes \(want) argument\(m.arity.upperBound == 1 ? "" : "s"), got \(args.count)", at: offset)
        }
        func fieldIndex() throws -> Int {
            if case .string(let s) = args[0], let i = kind.fieldIndex(s) { return i }
            let shown = args[0].pythonRepr(entityName: entityName)
            var hint = ""
            if case .string(let s) = args[0] { hint = Suggest.didYouMean(s, kind.fieldNames) }
            throw error(.unknownField, "\(m.rawValue): \(shown) is not a field of \(kind.displayName) (MOM: not declared in any collector)\(hint)", at: offset)
        }
        switch m {
        case .Prop:
            if case .string(let s) = args[0], let p = entities[e].properties.first(where: { $0.name == s }) { return p.value }
            let names = kind.properties.map(\.name)
            var hint = ""
            if case .string(let s) = args[0] {
                hint = Suggest.didYouMean(s, names)
                if names.contains(s) { hint = " (not given for \(label))" }
            }
            throw error(
                .unknownField,
                "Prop: \(label) has no property \(args[0].pythonRepr(entityName: entityName))\(hint) (properties: \(names.joined(separator: ", ")))", at: offset
            )
        case .Stat:
            let i = try fieldIndex()
            return entities[e].samples.last?[i] ?? .none
        case .StatAvg:
            let i = try fieldIndex()
            let samples = entities[e].samples
            guard !samples.isEmpty else {
                throw error(
                    .value,
                    "StatAvg: statistic '\(kind.fieldNames[i])' not available: \(label) has no sample yet (MOM runs a policy only after the first collection; give \(kind == .host ? "host" : "guest") data with --host, --guest or --sample)",
                    at: offset)
            }
            var total = PolicyValue.int(0)
            var n = 0
            do {
                for s in samples {
                    if case .none = s[i] { continue }
                    total = try PythonOps.add(total, s[i])
                    n += 1
                }
                return n == 0 ? .float(0) : try PythonOps.div(total, .int(n))
            } catch {
                throw self.error(error, at: offset)
            }
        case .SetVar, .GetVar:
            guard case .string(let s) = args[0] else {
                throw error(.type, "\(m.rawValue): the variable name must be a string, got \(args[0].typeName)", at: offset)
            }
            if m == .GetVar { return entities[e].variables[s] ?? .none }
            entities[e].variables[s] = args[1]
            return .none
        case .Control:
            let names = kind.controls.map(\.name)
            guard case .string(let s) = args[0], names.contains(s) else {
                var hint = ""
                if case .string(let s) = args[0] { hint = Suggest.didYouMean(s, names) }
                throw error(
                    .unknownControl,
                    "Control: \(args[0].pythonRepr(entityName: entityName)) is not a control of \(kind.displayName)\(hint) (MOM's controllers read \(names.joined(separator: ", ")); MOM would ignore it silently)",
                    at: offset)
            }
            let setting = PolicyControlSetting(name: s, value: args[1], location: map.location(offset))
            if let k = entities[e].controls.firstIndex(where: { $0.name == s }) {
                entities[e].controls[k] = setting
            } else {
                entities[e].controls.append(setting)
            }
            return .none
        case .GetControl:
            guard case .string(let s) = args[0] else { return .none }
            return entities[e].controls.first { $0.name == s }?.value ?? .none
        }
    }
}
