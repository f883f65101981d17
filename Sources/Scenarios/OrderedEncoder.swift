import OvercommitSupport

/// A small `Encoder` that keeps keys in the order `encode(to:)` writes them, so rendered
/// scenarios do not depend on hash order. Produces an `EncodedValue` tree.

/// A value as encoded by a type's `encode(to:)`.
indirect enum EncodedValue: Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case list([EncodedValue])
    /// Keys in the order they were first written.
    case map([(key: String, value: EncodedValue)])

    static func == (a: EncodedValue, b: EncodedValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.uint(x), .uint(y)): return x == y
        case let (.double(x), .double(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): return x == y
        case let (.list(x), .list(y)): return x == y
        case let (.map(x), .map(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    var mapPairs: [(key: String, value: EncodedValue)]? {
        if case .map(let p) = self { return p }
        return nil
    }

    subscript(key: String) -> EncodedValue? {
        mapPairs?.first { $0.key == key }?.value
    }
}

enum OrderedEncoding {
    /// Encodes any `Encodable` value into an ordered tree.
    static func encode(_ value: any Encodable) throws -> EncodedValue {
        let box = Box()
        try value.encode(to: OrderedEncoderImpl(box: box, codingPath: []))
        return box.value
    }

    /// The encoded defaults of a parameter table (`T()`), or an empty table for a schema that
    /// is not a table of its own (the `workload` entry, whose keys come from its `kind`).
    static func defaults(of table: any ParameterSchema.Type) -> [(key: String, value: EncodedValue)] {
        guard let t = table as? any ParameterTable.Type else { return [] }
        return ((try? encode(t.init()))?.mapPairs) ?? []
    }
}

/// Mutable storage shared by all containers of one encoder (a type may ask for its keyed
/// container more than once, as `WorkloadSpec` does for `kind` and the parameters).
private final class Box {
    enum Content {
        case unset
        case scalar(EncodedValue)
        case list([Box])
        case map(keys: [String], values: [String: Box])
    }
    var content: Content = .unset

    var value: EncodedValue {
        switch content {
        case .unset: return .map([])
        case .scalar(let v): return v
        case .list(let items): return .list(items.map(\.value))
        case .map(let keys, let values): return .map(keys.map { (key: $0, value: values[$0]!.value) })
        }
    }

    func child(forKey key: String) -> Box {
        var keys: [String] = [], values: [String: Box] = [:]
        if case .map(let k, let v) = content { keys = k; values = v }
        let b = Box()
        if values[key] == nil { keys.append(key) }
        values[key] = b
        content = .map(keys: keys, values: values)
        return b
    }

    func appendChild() -> Box {
        var items: [Box] = []
        if case .list(let i) = content { items = i }
        let b = Box()
        items.append(b)
        content = .list(items)
        return b
    }

    func makeMap() { if case .map = content {} else { content = .map(keys: [], values: [:]) } }
    func makeList() { if case .list = content {} else { content = .list([]) } }
}

private struct IndexKey: CodingKey {
    var stringValue: String { "\(intValue!)" }
    var intValue: Int?
    init(_ i: Int) { intValue = i }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct OrderedEncoderImpl: Encoder {
    let box: Box
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        box.makeMap()
        return KeyedEncodingContainer(KeyedContainer<Key>(box: box, codingPath: codingPath))
    }
    func unkeyedContainer() -> UnkeyedEncodingContainer {
        box.makeList()
        return UnkeyedContainer(box: box, codingPath: codingPath)
    }
    func singleValueContainer() -> SingleValueEncodingContainer {
        SingleContainer(box: box, codingPath: codingPath)
    }
}

/// Turns a primitive into a scalar, or nil for any other type (exact type match, no
/// bridging, so an `Int` never becomes a `Bool`).
private func primitive<T>(_ value: T) -> EncodedValue? {
    switch T.self {
    case is Bool.Type: return .bool(value as! Bool)
    case is String.Type: return .string(value as! String)
    case is Double.Type: return .double(value as! Double)
    case is Float.Type: return .double(Double(value as! Float))
    case is Int.Type: return .int(Int64(value as! Int))
    case is Int8.Type: return .int(Int64(value as! Int8))
    case is Int16.Type: return .int(Int64(value as! Int16))
    case is Int32.Type: return .int(Int64(value as! Int32))
    case is Int64.Type: return .int(value as! Int64)
    case is UInt.Type: return .uint(UInt64(value as! UInt))
    case is UInt8.Type: return .uint(UInt64(value as! UInt8))
    case is UInt16.Type: return .uint(UInt64(value as! UInt16))
    case is UInt32.Type: return .uint(UInt64(value as! UInt32))
    case is UInt64.Type: return .uint(value as! UInt64)
    default: return nil
    }
}

private func encodeInto<T: Encodable>(_ box: Box, _ value: T, codingPath: [CodingKey]) throws {
    if let p = primitive(value) { box.content = .scalar(p); return }
    try value.encode(to: OrderedEncoderImpl(box: box, codingPath: codingPath))
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: Box
    let codingPath: [CodingKey]

    mutating func encodeNil(forKey key: Key) throws { box.child(forKey: key.stringValue).content = .scalar(.null) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encodeInto(box.child(forKey: key.stringValue), value, codingPath: codingPath + [key])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let b = box.child(forKey: key.stringValue)
        b.makeMap()
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: b, codingPath: codingPath + [key]))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        let b = box.child(forKey: key.stringValue)
        b.makeList()
        return UnkeyedContainer(box: b, codingPath: codingPath + [key])
    }
    mutating func superEncoder() -> Encoder {
        OrderedEncoderImpl(box: box.child(forKey: "super"), codingPath: codingPath)
    }
    mutating func superEncoder(forKey key: Key) -> Encoder {
        OrderedEncoderImpl(box: box.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let box: Box
    let codingPath: [CodingKey]
    var count: Int {
        if case .list(let items) = box.content { return items.count }
        return 0
    }

    mutating func encodeNil() throws { box.appendChild().content = .scalar(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let key = IndexKey(count)
        try encodeInto(box.appendChild(), value, codingPath: codingPath + [key])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let key = IndexKey(count)
        let b = box.appendChild()
        b.makeMap()
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: b, codingPath: codingPath + [key]))
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let key = IndexKey(count)
        let b = box.appendChild()
        b.makeList()
        return UnkeyedContainer(box: b, codingPath: codingPath + [key])
    }
    mutating func superEncoder() -> Encoder {
        let key = IndexKey(count)
        return OrderedEncoderImpl(box: box.appendChild(), codingPath: codingPath + [key])
    }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let box: Box
    let codingPath: [CodingKey]
    mutating func encodeNil() throws { box.content = .scalar(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws { try encodeInto(box, value, codingPath: codingPath) }
}
