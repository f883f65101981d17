import Testing
@testable import PolicyLanguage

/// The language against MOM's own evaluator: every expected value below is what MOM's
/// `mom/Policy/Parser.py` (Python 3.11) printed for the same program, one value per
/// top-level expression.
@Suite struct EvaluatorTests {
    @Test func numberLiterals() throws {
        #expect(
            try values("42 -17 0 -0 0x2A 0XfF 0o755 3.25 .5 -.5 007.5 6e3 6E-3 0e7 1.5e+2 -2.5e-1 2e0")
                == ["42", "-17", "0", "0", "42", "255", "493", "3.25", "0.5", "-0.5", "7.5", "6000.0", "0.006", "0.0", "150.0", "-0.25", "2.0"])
    }

    @Test func floatsPrintAsPythonRepr() throws {
        #expect(
            try values(
                "(/ 1 3) (* 1.0 1e16) (* 1.0 1e15) (/ 1 10000) (/ 1 100000) (* 2.0 0.1) 1e22 (- 0.0 0) -0.0 (/ 7 7) 123456789.125 1e-7 (* 1e308 10) (- (* 1e308 10) (* 1e308 10))"
            )
                == [
                    "0.3333333333333333", "1e+16", "1000000000000000.0", "0.0001", "1e-05", "0.2", "1e+22", "0.0", "-0.0", "1.0", "123456789.125", "1e-07",
                    "inf", "nan",
                ])
    }

    @Test func divisionIsTrueDivisionCorrectlyRounded() throws {
        #expect(
            try values(
                "(/ 7 2) (/ -7 2) (/ 9007199254740993 1) (/ 9007199254740993 3) (/ 1 -5) (/ 0 -5) (/ 123456789012345678 7) (/ -9223372036854775807 3) (/ 4611686018427387904 3) (/ 1 9007199254740995)"
            )
                == [
                    "3.5", "-3.5", "9007199254740992.0", "3002399751580331.0", "-0.2", "-0.0", "1.7636684144620812e+16", "-3.0744573456182584e+18",
                    "1.5372286728091292e+18", "1.1102230246251562e-16",
                ])
    }

    @Test func mixedIntegerAndFloatArithmetic() throws {
        #expect(
            try values("(+ 1 2.5) (- 10 0.25) (* 3 0.1) (+ 9007199254740993 0.0) (* 2 3) (- 2 5) (+ -0.0 0) (- 0.0 0.0)")
                == ["3.5", "9.75", "0.30000000000000004", "9007199254740992.0", "6", "-3", "0.0", "0.0"])
    }

    @Test func stringsKeepBackslashesAndRepeat() throws {
        #expect(
            try values(##""plain" 'single' "with \"escape\"" 'it\'s' "#not a comment" (+ "ab" "cd") (* "ab" 3) (* 2 "xy") (* "z" 0) (* "z" -2) (+ "" "")"##)
                == ["plain", "single", #"with \"escape\""#, #"it\'s"#, "#not a comment", "abcd", "ababab", "xyxy", "", "", ""])
    }

    @Test func comparisonsAreExactAcrossIntAndFloat() throws {
        #expect(
            try values(
                #"(< 1 2) (> 1 2) (<= 2 2.0) (>= 1 1.5) (== 1 1.0) (!= 1 1.0) (== "a" "a") (< "abc" "abd") (< "B" "a") (== nil nil) (== 0 nil) (== "1" 1) (== 9007199254740993 9007199254740992.0) (< 9007199254740992 9007199254740993.0) (== (< 1 2) 1)"#
            )
                == ["True", "False", "True", "False", "True", "False", "True", "True", "True", "True", "False", "False", "False", "False", "True"])
    }

    @Test func booleansAreIntegers() throws {
        #expect(
            try values(#"(defvar t (< 1 2)) (+ t t) (* t 10) (- t 0.5) (* "ab" t) (/ t 4) (<< t 3) (abs (> 1 2))"#)
                == ["True", "2", "10", "0.5", "ab", "0.25", "8", "0"])
    }

    @Test func shifts() throws {
        #expect(
            try values("(<< 1 10) (>> 1024 3) (>> -7 1) (>> -1 100) (>> 5 64) (<< 0 70) (<< -3 2)")
                == ["1024", "128", "-4", "-1", "0", "0", "-12"])
    }

    @Test func andOrReturnTheDecidingValue() throws {
        #expect(
            try values(
                #"(and 1 2 3) (and 1 0 3) (and 1 "" 3) (or 0 "" nil) (or 0 5 6) (or nil) (and nil) (not 0) (not "x") (not nil) (not 0.0) (and 2.5) (or "" 0)"#)
                == ["3", "0", "", "None", "5", "None", "None", "True", "False", "True", "True", "2.5", "0"])
    }

    @Test func andOrEvaluateEveryArgumentAsMOMDoes() throws {
        // MOM evaluates all arguments before deciding: the set runs although 0 decides.
        #expect(try values("(defvar x 1) (and 0 (set x 5)) x (or 1 (set x 6)) x") == ["1", "0", "5", "1", "6"])
        // So an error in a later argument is an error even when an earlier one decides.
        #expect(policyError("(and 0 (+ 1 \"a\"))")?.kind == .type)
    }

    @Test func minAndMaxKeepTheFirstOfEqualValues() throws {
        #expect(
            try values(#"(min 3 1 2) (max 3 1 2) (max 1 2.0 2) (min 2 2.0) (max "pear" "apple") (min 7) (max -1 -1.5) (min 1 (< 1 2))"#)
                == ["1", "3", "2.0", "2", "pear", "7", "-1", "1"])
    }

    @Test func nullAndValid() throws {
        #expect(
            try values(#"(null) (null nil) (null "") (null nil "" nil) (null 0) (null "a") (null nil 5) (valid) (valid 0 "" 1) (valid 1 nil) (valid nil)"#)
                == ["True", "True", "True", "True", "False", "False", "False", "True", "True", "False", "False"])
    }

    @Test func absAndDebug() throws {
        #expect(try values("(abs -4) (abs 4) (abs -2.5) (abs -0.0) (abs 0)") == ["4", "4", "2.5", "0.0", "0"])
        let r = try PolicyProgram(text: "\n(debug \"x\" 1 2.5)\n(debug nil)", name: "d.policy").evaluate()
        #expect(r.valueTexts == ["2.5", "None"])
        #expect(r.debugMessages.map(\.text) == ["debug: ('x', 1, 2.5)", "debug: (None,)"])
        #expect(r.debugMessages.map(\.location.line) == [2, 3])
    }

    @Test func secondDefvarInTheSameScopeKeepsTheValue() throws {
        #expect(
            try values("(defvar x 1) (defvar x 2) x (set x 3) x (setq x 4) x (defvar y (+ x 1)) y")
                == ["1", "1", "1", "3", "3", "4", "4", "5", "5"])
    }

    @Test func letBindsInOrderInANewScope() throws {
        #expect(
            try values("(defvar x 10) (let ((x 1) (y x)) (+ x y)) x (let ((x 1) (x 2)) x) (let () 5) (let ((z 1)) (set x 20) z) x (let ((x 1)) (defvar w 5) w)")
                == ["10", "2", "10", "1", "5", "1", "20", "5"])
    }

    @Test func functionsDefAndDefun() throws {
        #expect(
            try values("(def sq (n) (* n n)) (sq 7) (defun twice (g v) (+ v v)) (twice 0 4) (def none () 99) (none) (def sq (n) (+ n 1)) (sq 7)")
                == ["sq", "49", "twice", "8", "none", "99", "sq", "8"])
        #expect(
            try values("(def fact (n) (if (<= n 1) 1 (* n (fact (- n 1))))) (fact 10) (fact 20)")
                == ["fact", "3628800", "2432902008176640000"])
        // A def inside a function defines a global function.
        #expect(try values("(def outer (v) { (def inner (w) (* w 3)) (inner v) }) (outer 2) (inner 5)") == ["outer", "6", "15"])
    }

    @Test func scopesAreDynamic() throws {
        // A function sees its caller's variables; set changes the innermost scope that has
        // the name; defvar in a function makes a local.
        #expect(
            try values(
                "(defvar g 100) (def read_g () g) (def shadow (g) (read_g)) (shadow 5) (read_g) (def setter (v) (set g v)) (setter 7) g (def local (v) (defvar g v)) (local 9) g"
            )
                == ["100", "read_g", "shadow", "5", "100", "setter", "7", "7", "local", "9", "7"])
    }

    @Test func argumentsAreEvaluatedAfterTheEarlierParametersAreBound() throws {
        // MOM binds parameters as a let: (pick 5 a) evaluates `a` after the parameter a = 5.
        #expect(
            try values("(defvar a 1) (def pick (a b) b) (pick 5 a) (def pick2 (p q) q) (pick2 5 a)")
                == ["1", "pick", "5", "pick2", "1"])
    }

    @Test func ifEvaluatesOnlyTheChosenBranch() throws {
        #expect(
            try values(#"(if 1 "yes" "no") (if 0 "yes" "no") (if "" 1 2) (if nil 1 2) (if (> 3 2) (+ 1 1) (undefined_function)) (if 0.0 1 2)"#)
                == ["yes", "no", "2", "2", "2", "2"])
    }

    @Test func blocksAndBrackets() throws {
        #expect(try values(#"{ 1 2 3 } { (defvar k 4) (* k k) } [+ 1 2] (eval 1 2) { "only" }"#) == ["3", "16", "3", "2", "only"])
    }

    @Test func commentsAndSymbols() throws {
        #expect(try values("# leading comment\n1 # trailing (+ 1 1)\n(+ 2 # inside\n   3)\n\"a # in a string\"") == ["1", "5", "a # in a string"])
        #expect(try values("(defvar my-var.x 5) (defvar under_score 6) (defvar e3 7) under_score e3 (+ e3 1)") == ["5", "6", "7", "6", "7", "8"])
        // A number ends where MOM's integer pattern ends: 12abc is 12 then abc.
        #expect(try values("(defvar abc 1) 12abc") == ["1", "12", "1"])
        // -5 is one integer token; (- 7 3) a subtraction.
        #expect(try values("(+ 7 -3) (- 7 3)") == ["4", "4"])
    }

    @Test func operatorNamesWorkAsFunctionNames() throws {
        #expect(
            try values("(add 1 2) (sub 5 1) (mul 2 3) (div 1 4) (lt 1 2) (gte 2 2) (eq 1 1) (neq 1 2) (shl 1 4) (shr 16 2)")
                == ["3", "4", "6", "0.25", "True", "True", "True", "True", "16", "4"])
    }

    @Test func withOverAStringAndListResults() throws {
        #expect(
            try values(#"(defvar s "xy") (with s c (* c 2)) (with s c (< c "y")) (with s c nil) (with s c 1.5)"#)
                == ["xy", "['xx', 'yy']", "[True, False]", "[None, None]", "[1.5, 1.5]"])
    }

    @Test func listsPrintWithPythonRepr() throws {
        #expect(
            try values(#"(defvar s "ab") (with s c (+ c "'")) (with s c "\q") (with s c (== c "a"))"#)
                == ["ab", #"["a'", "b'"]"#, #"['\\q', '\\q']"#, "[True, False]"])
    }

    @Test func integersBeyond64BitsAreExactAsInPython() throws {
        #expect(
            try values("99999999999999999999 -99999999999999999999 0xFFFFFFFFFFFFFFFFFF 0o7777777777777777777777777 9223372036854775808 -9223372036854775809")
                == [
                    "99999999999999999999", "-99999999999999999999", "4722366482869645213695", "37778931862957161709567", "9223372036854775808",
                    "-9223372036854775809",
                ])
        #expect(
            try values(
                "(* 4611686018427387904 2) (* 1099511627776 1099511627776) (+ 9223372036854775807 1) (- -9223372036854775808 1) (* -9223372036854775808 255) (<< 1 64) (<< 3 100) (>> (<< 1 100) 99) (>> (- 0 (<< 1 100)) 3) (abs -9223372036854775808)"
            )
                == [
                    "9223372036854775808", "1208925819614629174706176", "9223372036854775808", "-9223372036854775809", "-2351959869397967831040",
                    "18446744073709551616", "3802951800684688204490109616128", "2", "-158456325028528675187087900672", "9223372036854775808",
                ])
        #expect(
            try values(
                "(/ (* 1099511627776 1099511627776) 3) (/ (<< 1 200) (<< 1 100)) (/ 1 (<< 1 200)) (/ (- 0 (<< 7 80)) 13) (/ (<< 1 1023) 1) (/ 3 (<< 1 1100)) (/ (+ (<< 1 70) 1) (+ (<< 1 69) 3))"
            )
                == [
                    "4.029752732048764e+23", "1.2676506002282294e+30", "6.223015277861142e-61", "-6.509600567155695e+23", "8.98846567431158e+307", "0.0", "2.0",
                ])
        #expect(
            try values(
                "(+ (<< 1 70) 0.5) (* (<< 1 70) 1.5) (== (<< 1 64) 18446744073709551616.0) (== (+ (<< 1 64) 1) 18446744073709551616.0) (> (+ (<< 1 64) 1) 18446744073709551616.0) (< (<< 1 100) 1e30) (< (<< 1 100) 1.2676506002282294e30) (min (<< 1 64) 5 (<< 1 63)) (max (<< 1 64) 1e19) (- (<< 1 64) (<< 1 64)) (== (- (<< 1 64) (<< 1 64)) 0)"
            )
                == ["1.1805916207174113e+21", "1.770887431076117e+21", "True", "False", "True", "False", "False", "5", "18446744073709551616", "0", "True"])
        #expect(
            try values(
                "(>> 5 99999999999999999999) (>> -5 99999999999999999999) (<< 0 99999999999999999999) (>> (<< 1 64) 64) (>> (- 0 (<< 1 64)) 65) (if (<< 1 64) 1 0) (not (<< 1 64))"
            )
                == ["0", "-1", "0", "1", "-1", "1", "False"])
    }

    @Test func leadingZeroIsOctalAsInMOMBeforePython3() throws {
        // MOM's Python 3 scanner silently stops reading at 017; its Python 2 version read 15.
        #expect(try values("017 00 (+ 010 1)") == ["15", "0", "9"])
        #expect(policyError("018")?.kind == .syntax)
    }
}
