import Testing
@testable import PolicyLanguage

/// The scanner splits text as MOM's does: its patterns in MOM's order, first match wins.
@Suite struct ScannerTests {
    func tokens(_ text: String) throws -> [PolicyToken.Kind] {
        var s = PolicyScanner(SourceMap([PolicySource(name: "t", text: text)]))
        return try s.tokenize().map(\.kind)
    }

    @Test func numbersFollowMOMsPatternOrder() throws {
        #expect(
            try tokens("-5 (- 5) .5 -.5 5e3 0e1 0x1F 0o17 12abc 1.5.3 e3") == [
                .number(.int(-5)), .open("("), .op("-"), .number(.int(5)), .close(")"),
                .number(.float(0.5)), .number(.float(-0.5)), .number(.float(5000)), .number(.float(0)),
                .number(.int(31)), .number(.int(15)), .number(.int(12)), .symbol("abc"),
                .number(.float(1.5)), .number(.float(0.3)), .symbol("e3"),
            ])
        // `-` before a hex number is an operator: MOM reads -0x10 as `-` then 16.
        #expect(try tokens("-0x10") == [.op("-"), .number(.int(16))])
    }

    @Test func operatorsStringsSymbolsAndComments() throws {
        #expect(try tokens("<= << < == != >> > + * / -") == ["<=", "<<", "<", "==", "!=", ">>", ">", "+", "*", "/", "-"].map { .op($0) })
        #expect(try tokens(#""a # b" 'c\'d' # comment (+ 1 2)"#) == [.string("a # b"), .string(#"c\'d"#)])
        #expect(try tokens("guest.balloon_cur my-var_2 and") == [.symbol("guest.balloon_cur"), .symbol("my-var_2"), .symbol("and")])
        #expect(try tokens("{[()]}") == [.open("{"), .open("["), .open("("), .close(")"), .close("]"), .close("}")])
        // A comment on the last line needs no newline.
        #expect(try tokens("1 # end") == [.number(.int(1))])
    }

    @Test func newlinesAreNormalizedAsPythonReadsFiles() throws {
        let p = try PolicyProgram(text: "1\r\n2\r3\n(+ \"a\" 1)")
        #expect(p.sources[0].text == "1\n2\n3\n(+ \"a\" 1)")
        do { _ = try p.evaluate(); Issue.record("expected an error") } catch { #expect(error.location?.line == 4) }
    }

    @Test func filesJoinIntoOneProgramAsMOMJoinsThem() throws {
        // MOM joins the files with newlines and parses the result: an expression may span files.
        let p = try PolicyProgram(sources: [
            PolicySource(name: "a.policy", text: "(defvar x 1)\n(+ x"), PolicySource(name: "b.policy", text: "2)\n(- x \"s\")"),
        ])
        do { _ = try p.evaluate(); Issue.record("expected an error") } catch {
            #expect(error.location == SourceLocation(file: "b.policy", line: 2, column: 2))
        }
        #expect(try PolicyProgram(sources: [PolicySource(name: "a", text: "(+ 1"), PolicySource(name: "b", text: "2)")]).evaluate().valueTexts == ["3"])
    }

    @Test func directoryOrderIsMOMs() {
        #expect(
            PolicySource.momDirectoryOrder(["03-ksm.policy", ".hidden.policy", "00-defines.policy", "README", "02-balloon.policy", "a-b.policy", "a.policy"])
                == ["00-defines.policy", "02-balloon.policy", "03-ksm.policy", "a.policy", "a-b.policy"])
    }

    @Test func emptyProgramsHaveNoValues() throws {
        #expect(try values("# only a comment\n") == [])
    }
}
