import Foundation
@testable import PolicyLanguage

/// The repository's root (for Configs/policies).
let repoRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Evaluates a program and returns each top-level value as MOM's parser script prints it.
func values(_ text: String, _ input: PolicyInput = PolicyInput()) throws -> [String] {
    try PolicyProgram(text: text, name: "test.policy").evaluate(input).valueTexts
}

/// The error a program raises (syntax or run time), or nil if it runs.
func policyError(_ text: String, _ input: PolicyInput = PolicyInput()) -> PolicyError? {
    do {
        _ = try PolicyProgram(text: text, name: "test.policy").evaluate(input)
        return nil
    } catch {
        return error
    }
}

/// A host sample with the given fields.
func hostSample(_ fields: [MOMHostField: PolicyValue]) -> MOMHostSample {
    var s = MOMHostSample()
    for (f, v) in fields { s[f] = v }
    return s
}

/// A guest sample with the given fields.
func guestSample(_ fields: [MOMGuestField: PolicyValue]) -> MOMGuestSample {
    var s = MOMGuestSample()
    for (f, v) in fields { s[f] = v }
    return s
}
