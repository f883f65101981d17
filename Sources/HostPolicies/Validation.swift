import OvercommitSupport

/// A validation problem: the key relative to its table and what is allowed.
public typealias ParameterProblem = (key: String, message: String)

func checkFraction(_ key: String, _ v: Percentage, _ p: inout [ParameterProblem], max: Double = 1) {
    if !(v.fraction >= 0 && v.fraction <= max) {
        p.append((key, "must be between 0% and \(formatShortest(max * 100))%; got \(v)"))
    }
}

func checkPositive(_ key: String, _ v: SimDuration, _ p: inout [ParameterProblem]) {
    if v.nanoseconds <= 0 { p.append((key, "must be a positive duration, e.g. 10s; got \(v)")) }
}

/// Decodes a list of technique names with an error that lists the allowed names.
func decodeTechniques(_ decoder: ParameterDecoder, _ key: String, _ v: inout [ReclaimTechnique]) throws {
    var names: [String]? = nil
    try decoder.getOptional(key, &names)
    guard let names else { return }
    v = try names.map { name in
        guard let t = ReclaimTechnique(rawValue: name) else {
            throw decoder.error(key, "unknown reclaim technique '\(name)'; allowed: " + ReclaimTechnique.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return t
    }
}
