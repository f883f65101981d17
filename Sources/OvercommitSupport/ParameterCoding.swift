/// Decoding and encoding helpers for parameter tables: absent keys keep their defaults,
/// keys are written in table order.

/// A coding key made from any string.
public struct AnyCodingKey: CodingKey, Sendable {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ s: String) { stringValue = s }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

/// Reads keys of a parameter mapping, leaving defaults in place for absent keys.
public struct ParameterDecoder {
    let c: KeyedDecodingContainer<AnyCodingKey>
    public init(_ decoder: Decoder) throws { c = try decoder.container(keyedBy: AnyCodingKey.self) }
    public func get<T: Decodable>(_ key: String, _ v: inout T) throws {
        if let x = try c.decodeIfPresent(T.self, forKey: AnyCodingKey(key)) { v = x }
    }
    public func getOptional<T: Decodable>(_ key: String, _ v: inout T?) throws {
        if let x = try c.decodeIfPresent(T.self, forKey: AnyCodingKey(key)) { v = x }
    }
    /// A decoding error about `key` carrying the full key path (so the loader can point at it).
    public func error(_ key: String, _ message: String) -> DecodingError {
        DecodingError.dataCorruptedError(forKey: AnyCodingKey(key), in: c, debugDescription: message)
    }
}

/// Writes keys of a parameter mapping in the order they are set.
public struct ParameterEncoder {
    var c: KeyedEncodingContainer<AnyCodingKey>
    public init(_ encoder: Encoder) { c = encoder.container(keyedBy: AnyCodingKey.self) }
    public mutating func set<T: Encodable>(_ key: String, _ v: T) throws { try c.encode(v, forKey: AnyCodingKey(key)) }
    public mutating func setIfPresent<T: Encodable>(_ key: String, _ v: T?) throws {
        if let v { try c.encode(v, forKey: AnyCodingKey(key)) }
    }
}

