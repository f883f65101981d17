import Testing
@testable import PolicyLanguage

/// Errors name the file, line (and for syntax, the column) and say what was expected.
@Suite struct ErrorTests {
    func syntaxError(_ text: String) -> PolicyError? {
        do { _ = try PolicyProgram(sources: [PolicySource(name: "a.policy", text: "1\n"), PolicySource(name: "b.policy", text: text)]); return nil } catch {
            return error
        }
    }

    @Test func syntaxErrorsNameFileLineAndColumn() {
        let unclosed = syntaxError("# comment\n(defvar x\n  (+ 1 2)\n")
        #expect(unclosed?.kind == .syntax)
        #expect(unclosed?.location == SourceLocation(file: "b.policy", line: 2, column: 1))
        #expect(unclosed?.description.hasPrefix("b.policy:2:1: '(' opened here is never closed") == true)
        let stray = syntaxError("(+ 1 2))")
        #expect(stray?.location == SourceLocation(file: "b.policy", line: 1, column: 8))
        let mismatched = syntaxError("(+ 1 2]")
        #expect(mismatched?.message.contains("expected ')'") == true)
        #expect(syntaxError("(if (= x 1) 1 0)")?.message.contains("comparison is ==") == true)
        #expect(syntaxError("(+ 5. 1)")?.message.contains("malformed number") == true)
        #expect(syntaxError("  \"open")?.location?.column == 3)
        #expect(syntaxError(String(repeating: "9", count: 5000))?.message.contains("16384 bits") == true)
        #expect(syntaxError("0o8")?.message.contains("octal") == true)
    }

    @Test func lineNumbersCountCommentLines() {
        // MOM's scanner does not count a comment's newline; these are the real lines.
        let e = policyError("# one\n# two\n# three\n(+ 1 \"a\")")
        #expect(e?.location?.line == 4)
        #expect(e?.kind == .type)
        #expect(e?.message == "unsupported operand type(s) for +: 'int' and 'str'")
        #expect(e?.expression == "(+ 1 \"a\")")
    }

    @Test func runTimeErrorsOfEachKind() {
        #expect(policyError("undefined_thing")?.kind == .undefinedSymbol)
        #expect(policyError("(set nothere 1)")?.kind == .undefinedSymbol)
        #expect(policyError("(nofunction 1)")?.kind == .undefinedSymbol)
        #expect(policyError("(if 1 2)")?.kind == .arity)
        #expect(policyError("(- 5)")?.kind == .arity)
        #expect(policyError("(and)")?.kind == .arity)
        #expect(policyError("(not)")?.kind == .arity)
        #expect(policyError("(def f (x y) 1) (f 1)")?.kind == .arity)
        #expect(policyError("(abs 1 2)")?.kind == .arity)
        #expect(policyError("(debug)")?.kind == .arity)
        #expect(policyError("(/ 1 0)")?.message == "division by zero")
        #expect(policyError("(/ 1 0.0)")?.message == "float division by zero")
        #expect(policyError("(<< 1 -1)")?.message == "negative shift count")
        #expect(policyError("(<< 1 20000)")?.message.contains("16384 bits") == true)
        #expect(policyError("(+ (<< 1 1100) 0.5)")?.message == "int too large to convert to float")
        #expect(policyError("(/ (<< 1 1100) 3)")?.message == "integer division result too large for a float")
        #expect(policyError("(* \"a\" (<< 1 70))")?.message == "cannot fit 'int' into an index-sized integer")
        #expect(policyError(#"(< 1 "a")"#)?.message == "'<' not supported between instances of 'int' and 'str'")
        #expect(policyError(#"(+ "a" 1)"#)?.message == #"can only concatenate str (not "int") to str"#)
        #expect(policyError(#"(* "a" 1.5)"#)?.message == "can't multiply sequence by non-int of type 'float'")
        #expect(policyError("(- nil 1)")?.message == "unsupported operand type(s) for -: 'NoneType' and 'int'")
        #expect(policyError("(abs \"x\")")?.message == "bad operand type for abs(): 'str'")
        #expect(policyError("()")?.kind == .value)
        #expect(policyError("{}")?.kind == .value)
        #expect(policyError("(2 + 2)")?.kind == .malformed)
        #expect(policyError("+")?.kind == .malformed)
        #expect(policyError("((f) 1)")?.kind == .malformed)
        #expect(policyError("(set 5 1)")?.kind == .malformed)
        #expect(policyError("(let x 1)")?.kind == .malformed)
        #expect(policyError("(let ((1 2)) 1)")?.kind == .malformed)
        #expect(policyError("(defvar x 5) (x 1)")?.message.contains("'int' object is not callable") == true)
        #expect(policyError("(with nothere g g)")?.kind == .undefinedSymbol)
        #expect(policyError("(defvar n 5) (with n g g)")?.message.contains("not iterable") == true)
    }

    @Test func errorsInsideFunctionsCarryTheCallTrace() {
        let e = policyError(
            """
            (def inner (v) (+ v "x"))
            (def outer (v) (inner v))
            (outer 1)
            """)
        #expect(e?.location?.line == 1)
        #expect(e?.trace == ["in inner (called at test.policy:2)", "in outer (called at test.policy:3)"])
        #expect(
            e?.description == """
                test.policy:1: unsupported operand type(s) for +: 'int' and 'str'
                    in (+ v "x")
                    in inner (called at test.policy:2)
                    in outer (called at test.policy:3)
                """)
    }

    @Test func aSimulationAddsTheSimulatedTime() {
        var e = policyError("(+ 1 nil)")
        e?.simulatedTime = "01:02:30"
        #expect(e?.description.hasPrefix("test.policy:1: at simulated time 01:02:30: unsupported operand type(s) for +: 'int' and 'NoneType'") == true)
    }

    @Test func runawayRecursionIsAnErrorNotACrash() throws {
        let e = policyError("(def f (n) (+ 1 (f n))) (f 1)")
        #expect(e?.kind == .recursion)
        // 99 nested calls still run (MOM's Python stops at 97 for this function).
        #expect(try values("(def f (n) (if (== n 0) 0 (+ 1 (f (- n 1))))) (f 99)") == ["f", "99"])
        // The deepest nesting the parser accepts also evaluates.
        let deep = String(repeating: "(+ 1 ", count: 255) + "0" + String(repeating: ")", count: 255)
        #expect(try values(deep) == ["255"])
        #expect(policyError(String(repeating: "(", count: 300) + String(repeating: ")", count: 300))?.kind == .syntax)
    }

    @Test func undefinedEngineVariablesSayWhereTheyComeFrom() {
        let e = policyError("(if balloonEnabled 1 0)")
        #expect(e?.message.contains("oVirt engine") == true)
    }
}
