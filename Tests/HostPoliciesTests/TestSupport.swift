import Foundation
import OvercommitSupport
@testable import HostPolicies

func decodeJSON<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(json.utf8))
}

func roundTrip<T: Codable>(_ value: T) throws -> T {
    try JSONDecoder().decode(T.self, from: JSONEncoder().encode(value))
}

func jsonString<T: Encodable>(_ value: T) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = .sortedKeys
    return String(decoding: try e.encode(value), as: UTF8.self)
}

/// Balloon settings with a minimum guest memory in pages.
func settings(minimumPages: Int? = nil, _ edit: (inout BalloonVMSettings) -> Void = { _ in }) -> BalloonVMSettings {
    var s = BalloonVMSettings()
    if let m = minimumPages { s.minimum = .pages(m) }
    edit(&s)
    return s
}
