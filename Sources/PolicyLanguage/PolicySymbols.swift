/// The symbols of a program, interned once when it is parsed, so that evaluation looks names
/// up by number instead of hashing and splitting strings (an oVirt policy over 150 guests runs
/// thousands of lookups per evaluation).
struct SymbolInfo: Sendable {
    let name: String
    /// For `obj.attr`: the symbol of `obj` (MOM's `name.split('.')[0]`); the symbol itself
    /// otherwise.
    let object: Int
    /// For `obj.attr`: `attr` (MOM reads only the first attribute); nil without a dot.
    let attribute: String?
    /// `attr` as an entity method.
    let method: MOMEntityMethod?
    /// `attr` as a field index of Host and of a guest.
    let hostField: Int?
    let guestField: Int?
    /// The special form the name denotes, if any.
    let form: SpecialForm?
}

struct SymbolTable: Sendable {
    private(set) var symbols: [SymbolInfo] = []
    private var index: [String: Int] = [:]

    /// Names the evaluator needs whatever the program says.
    static let builtinNames = ["nil", "eval", "Host", "Guests"] + PolicyBuiltin.allCases.map(\.rawValue) + SpecialForm.allCases.map(\.rawValue)

    init() {
        for n in Self.builtinNames { _ = intern(n) }
    }

    func id(_ name: String) -> Int? { index[name] }

    subscript(_ id: Int) -> SymbolInfo { symbols[id] }

    var count: Int { symbols.count }

    mutating func intern(_ name: String) -> Int {
        if let i = index[name] { return i }
        var object = -1
        var attribute: String? = nil
        if let dot = name.firstIndex(of: ".") {
            object = intern(String(name[..<dot]))
            let rest = name[name.index(after: dot)...]
            attribute = String(rest[..<(rest.firstIndex(of: ".") ?? rest.endIndex)])
        }
        let id = symbols.count
        symbols.append(
            SymbolInfo(
                name: name, object: object < 0 ? id : object, attribute: attribute,
                method: attribute.flatMap { MOMEntityMethod(rawValue: $0) },
                hostField: attribute.flatMap { MOMEntityKind.host.fieldIndex($0) },
                guestField: attribute.flatMap { MOMEntityKind.guest.fieldIndex($0) },
                form: SpecialForm(rawValue: name)))
        index[name] = id
        return id
    }

    static let nilID = 0, evalID = 1, hostID = 2, guestsID = 3
}
