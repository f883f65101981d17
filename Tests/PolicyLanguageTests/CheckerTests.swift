import Testing
@testable import PolicyLanguage

/// `PolicyProgram.check`: problems found without running the policy.
@Suite struct CheckerTests {
    func check(_ text: String, injected: [String] = []) throws -> PolicyCheckReport {
        try PolicyProgram(text: text, name: "c.policy").check(injectedVariables: injected)
    }

    /// A policy shaped like oVirt's: helpers reached through `with Guests`, a helper whose
    /// parameter is not the name its body reads (dynamic scope), KSM tunables on Host.
    let wellFormed = """
        (defvar threshold 0.2)
        (defvar enabled 1)
        (def big_enough (guest target) (> (abs (- target guest.balloon_cur)) (* 0.01 guest.balloon_cur)))
        (def shrink (guest) {
            (defvar used (- (guest.StatAvg "balloon_cur") (guest.StatAvg "mem_unused")))
            (defvar size (max guest.balloon_min (* used 1.2)))
            (if (big_enough guest size) (guest.Control "balloon_target" size) 0)
        })
        (def floor_at_min (other) (if (< guest.balloon_cur guest.balloon_min) (guest.Control "balloon_target" guest.balloon_min) 0))
        (defvar free (/ (Host.StatAvg "mem_free") Host.mem_available))
        (if (and enabled (< free threshold)) (with Guests g (shrink g)) 0)
        (with Guests guest (floor_at_min 0))
        (Host.Control "ksm_run" (if (< free threshold) 1 0))
        (with Guests guest (if (valid guest.io_tune) (with guest.io_tune tune { (defvar m tune.maximum) (tune.setTotalBytesSec m.total_bytes_sec) }) 0))
        """

    @Test func aWellFormedPolicyHasNoDiagnostics() throws {
        let r = try check(wellFormed)
        #expect(r.diagnostics.isEmpty, "\(r.diagnostics)")
        #expect(r.functions == ["big_enough", "shrink", "floor_at_min"])
        #expect(r.hostFieldsRead == ["mem_free", "mem_available"])
        #expect(r.guestFieldsRead == ["balloon_cur", "mem_unused", "balloon_min", "io_tune"])
        #expect(r.guestControlsSet == ["balloon_target"])
        #expect(r.hostControlsSet == ["ksm_run"])
    }

    @Test func misspelledFieldsControlsAndMethodsAreErrors() throws {
        let r = try check(
            """
            (with Guests guest {
                guest.balloon_curr
                (guest.StatAvg "mem_unsued")
                (guest.Control "balloon_targt" 1)
                (guest.balloon_cur)
                (guest.Stats "mem_free")
            })
            (Host.Control "ksm_pages" 1)
            Host.memfree
            """)
        let messages = r.errors.map(\.message)
        #expect(r.errors.count == 7, "\(messages)")
        #expect(messages[0].contains("did you mean 'balloon_cur'"))
        #expect(messages[1].contains("did you mean 'mem_unused'"))
        #expect(messages[2].contains("did you mean 'balloon_target'"))
        #expect(messages[3].contains("is a field, not a method"))
        #expect(messages[4].contains("did you mean 'Stat'"))
        #expect(messages[5].contains("is not a control of Host"))
        #expect(messages[6].contains("did you mean 'mem_free'"))
        #expect(r.errors.map(\.location.line) == [2, 3, 4, 5, 6, 8, 9])
    }

    @Test func undefinedSymbolsAreFoundInBranchesThatDoNotRun() throws {
        let r = try check("(if 0 (+ undefined_x 1) 0) (set never_defined 1) (nofunc 2)")
        #expect(r.errors.map(\.kind) == [.undefinedSymbol, .undefinedSymbol, .undefinedSymbol])
    }

    @Test func engineVariablesAreKnownWhenInjected() throws {
        let missing = try check("(if balloonEnabled 1 0)")
        #expect(missing.errors.first?.message.contains("--set balloonEnabled") == true)
        #expect(try check("(if balloonEnabled 1 0)", injected: ["balloonEnabled"]).diagnostics.isEmpty)
        let unused = try check("1", injected: ["balloonEnable"])
        #expect(unused.errors.isEmpty)
        #expect(unused.diagnostics.first?.severity == .warning)
    }

    @Test func argumentCountsAndShapes() throws {
        let r = try check(
            """
            (if 1 2)
            (def f (a b) a)
            (f 1)
            (abs 1 2)
            (Host.Stat)
            (set 5 1)
            (let x 1)
            (def g x 1)
            (with Host h 1)
            ()
            (+ 1 2 3)
            """)
        #expect(r.errors.map(\.kind) == [.arity, .arity, .arity, .arity, .malformed, .malformed, .malformed, .type, .value, .arity])
    }

    @Test func aSecondAttributeIsAWarning() throws {
        // MOM's lookup of a.b.c returns a.b: the .c is silently ignored.
        let r = try check("(with Guests g g.balloon_cur.x)")
        #expect(r.errors.isEmpty)
        #expect(r.diagnostics.first?.message.contains("only the first attribute") == true)
    }

    @Test func redefinitionIsAWarning() throws {
        let r = try check("(def f () 1) (def f () 2) (f)")
        #expect(r.errors.isEmpty)
        #expect(r.diagnostics.map(\.severity) == [.warning])
    }

    @Test func namesBoundToNonEntitiesAreNotChecked() throws {
        // `x` holds a number somewhere and a guest elsewhere: its attributes are not checked.
        #expect(try check("(defvar x 1) (with Guests x x.anything)").diagnostics.isEmpty)
    }
}
