/// Mean and 95 % confidence interval of replicated runs (Student's t, two-sided), as a
/// simulation study reports each point of a sweep.
public struct SweepStatistics: Sendable, Equatable {
    public var n: Int
    public var mean: Double
    /// Sample standard deviation (n - 1 in the denominator); 0 for one run.
    public var standardDeviation: Double
    /// Half-width of the 95 % confidence interval of the mean: t(0.975, n-1) x s / sqrt(n);
    /// nan for a single run (no interval can be given from one sample).
    public var ci95: Double

    public init(_ values: [Double]) {
        n = values.count
        guard n > 0 else { mean = .nan; standardDeviation = .nan; ci95 = .nan; return }
        // Summed in the given order, so equal inputs give bit-identical outputs.
        var sum = 0.0
        for v in values { sum += v }
        mean = sum / Double(n)
        guard n > 1 else { standardDeviation = 0; ci95 = .nan; return }
        var ss = 0.0
        for v in values { ss += (v - mean) * (v - mean) }
        standardDeviation = (ss / Double(n - 1)).squareRoot()
        ci95 = SweepStatistics.t975(degreesOfFreedom: n - 1) * standardDeviation / Double(n).squareRoot()
    }

    /// The 0.975 quantile of Student's t distribution: exact table values to 30 degrees of
    /// freedom, then the Cornish-Fisher expansion around the normal quantile (error < 1e-4).
    public static func t975(degreesOfFreedom df: Int) -> Double {
        precondition(df >= 1)
        let table: [Double] = [
            12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139,
            2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963,
            2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
        ]
        if df <= table.count { return table[df - 1] }
        let z = 1.959964, v = Double(df)
        let z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z
        return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v)
            + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v)
    }
}
