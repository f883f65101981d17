/// A MOM policy program: the policy files joined in order, parsed once, evaluated as often
/// as needed (MOM evaluates its policy every `policy-engine-interval`, each time with a fresh
/// evaluator: nothing a policy defines survives to the next evaluation).
public struct PolicyProgram: Sendable {
    public let sources: [PolicySource]
    let map: SourceMap
    /// The top-level expressions, in order.
    public let expressions: [PolicyNode]
    let symbols: SymbolTable

    /// Scans and parses the files as one text, joined by newlines as MOM joins the files of
    /// a policy directory. Throws the first syntax error, with file, line and column.
    public init(sources: [PolicySource]) throws(PolicyError) {
        self.sources = sources
        map = SourceMap(sources)
        var scanner = PolicyScanner(map)
        let tokens = try scanner.tokenize()
        var parser = PolicyParser(tokens: tokens, map: map)
        expressions = try parser.parseProgram()
        symbols = parser.symbols
    }

    /// A program from one text.
    public init(text: String, name: String = "<policy>") throws(PolicyError) {
        try self.init(sources: [PolicySource(name: name, text: text)])
    }

    /// Where a node starts.
    public func location(of node: PolicyNode) -> SourceLocation { map.location(node.offset) }

    /// Names an injected variable may not take: the entities, the external functions, nil.
    static let reservedNames: Set<String> = Set(["Host", "Guests", "nil"] + PolicyBuiltin.allCases.map(\.rawValue))

    /// Whether `name` can be an injected variable: a symbol without a dot, not reserved.
    public static func variableNameProblem(_ name: String) -> String? {
        let s = Array(name.unicodeScalars)
        guard let f = s.first, PolicyScanner.isSymbolStart(f), s.allSatisfy({ PolicyScanner.isSymbolChar($0) && $0 != "." }) else {
            return "'\(name)' is not a variable name: a letter or _ followed by letters, digits, _ or -"
        }
        if reservedNames.contains(name) { return "'\(name)' is reserved: the policy engine defines it" }
        return nil
    }

    /// Evaluates every top-level expression in order against `input`, as MOM's policy engine
    /// does each interval. Throws the first run-time error, naming file and line; MOM would
    /// log it and apply none of the controls of that evaluation.
    public func evaluate(_ input: PolicyInput = PolicyInput()) throws(PolicyError) -> PolicyEvaluation {
        var seen = Set<String>()
        for v in input.variables {
            if let p = Self.variableNameProblem(v.name) { throw PolicyError(.value, "injected variable: \(p)") }
            if !seen.insert(v.name).inserted { throw PolicyError(.value, "injected variable '\(v.name)' is given twice") }
        }
        let interp = PolicyInterpreter(map: map, symbols: symbols, input: input)
        var values: [PolicyValue] = []
        values.reserveCapacity(expressions.count)
        do {
            for e in expressions { values.append(try interp.eval(e)) }
        } catch let e as PolicyError {
            throw e
        } catch {
            throw PolicyError(.value, "internal error: \(error)")
        }
        return PolicyEvaluation(
            values: values,
            valueTexts: values.map { $0.pythonStr(entityName: interp.entityName) },
            hostControls: interp.entities[0].controls,
            guestControls: interp.entities.dropFirst().map(\.controls),
            debugMessages: interp.debugMessages)
    }
}
