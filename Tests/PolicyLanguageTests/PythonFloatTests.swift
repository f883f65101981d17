import Testing
@testable import PolicyLanguage

/// Python's float printing and int / int division, against Python 3.11's own results.
/// (A differential run of 3 000 random doubles and integer pairs through MOM's evaluator and
/// `overcommit policy eval` agreed on every value; these are the hard cases.)
@Suite struct PythonFloatTests {
    @Test func reprMatchesPython() {
        let cases: [(Double, String)] = [
            (Double.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (2.2250738585072014e-308, "2.2250738585072014e-308"),
            (1e23, "1e+23"), (0.1 + 0.2, "0.30000000000000004"), (123456789012345.6, "123456789012345.6"),
            (1234567890123456.7, "1234567890123456.8"), (12345678901234567.0, "1.2345678901234568e+16"),
            (0.000123, "0.000123"), (0.0000123, "1.23e-05"), (1e16 - 2, "9999999999999998.0"),
            (9007199254740992.0, "9007199254740992.0"), (9223372036854775808.0, "9.223372036854776e+18"),
            (-1.5e-10, "-1.5e-10"), (0, "0.0"), (-0.0, "-0.0"), (100, "100.0"), (.infinity, "inf"), (-.infinity, "-inf"), (.nan, "nan"),
        ]
        for (x, s) in cases { #expect(PythonFloat.repr(x) == s, "\(x)") }
    }

    @Test func integerTrueDivisionIsCorrectlyRounded() {
        let cases: [(Int, Int, String)] = [
            (4611686018427387905, 3, "1.5372286728091292e+18"),
            (-9223372036854775807, 4611686018427400249, "-1.9999999999999947"),
            (9223372036854775807, 9223372036854775806, "1.0"),
            (1, 4611686018427387904, "2.168404344971009e-19"),
            (3, 2305843009213693953, "1.3010426069826053e-18"),
            (9007199254740995, 2, "4503599627370498.0"),
            (987654321987654321, 123456789, "8000000080.900001"),
            (-5, 9007199254740993, "-5.551115123125782e-16"),
        ]
        for (a, b, s) in cases { #expect(PythonFloat.repr(PythonFloat.trueDivide(a, b)) == s, "\(a) / \(b)") }
    }

    @Test func integersCompareExactlyWithFloats() {
        #expect(PythonFloat.compare(9007199254740993, 9007199254740992.0) == .greater)
        #expect(PythonFloat.compare(Int.max, 9223372036854775808.0) == .less)
        #expect(PythonFloat.compare(Int.min, -9223372036854775808.0) == .equal)
        #expect(PythonFloat.compare(2, 2.5) == .less)
        #expect(PythonFloat.compare(-2, -2.5) == .greater)
        #expect(PythonFloat.compare(0, .nan) == nil)
        #expect(PythonFloat.compare(5, -.infinity) == .greater)
    }
}
