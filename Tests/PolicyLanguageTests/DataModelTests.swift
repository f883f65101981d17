import Testing
@testable import PolicyLanguage

/// Host, Guests and their methods, against MOM's `Entity` (`mom/Entity.py`): the expected
/// values are what MOM's Policy and Entity classes gave for the same samples.
@Suite struct DataModelTests {
    /// Host: mem_free 100, nil, 250, 301 (oldest first); guests a and b.
    func input() -> PolicyInput {
        let host = MOMHostData(
            interval: 5,
            samples: [
                hostSample([.mem_available: .int(1000), .mem_free: .int(100), .swap_in: .int(3)]),
                hostSample([.mem_available: .int(1000), .mem_free: .none, .swap_in: .int(3)]),
                hostSample([.mem_available: .int(1000), .mem_free: .int(250), .swap_in: .int(3)]),
                hostSample([.mem_available: .int(1000), .mem_free: .int(301), .swap_in: .int(3)]),
            ])
        let a = MOMGuestData(
            name: "a", uuid: "0000-a",
            samples: [
                guestSample([.balloon_cur: .int(400), .mem_unused: .int(10)]),
                guestSample([.balloon_cur: .int(400), .mem_unused: .int(20)]),
            ])
        let b = MOMGuestData(name: "b", samples: [guestSample([.balloon_cur: .float(500.5)])])
        return PolicyInput(host: host, guests: [a, b])
    }

    @Test func statReadsTheLatestSampleAndStatAvgTheNonNilHistory() throws {
        #expect(
            try values(
                #"Host.mem_free (Host.Stat "mem_free") (Host.StatAvg "mem_free") (Host.StatAvg "swap_in") (Host.StatAvg "anon_pages") (Host.Stat "mem_unused") Host.mem_unused (Host.Stat "mem_free" 99)"#,
                input())
                == ["301", "301", "217.0", "3.0", "0.0", "None", "None", "301"])
    }

    @Test func withGuestsIteratesInOrder() throws {
        #expect(
            try values(
                #"(with Guests g (g.StatAvg "mem_unused")) (with Guests g g.balloon_cur) (with Guests g (g.Prop "name")) (with Guests g (g.Prop "name"))"#,
                input())
                == ["[15.0, 0.0]", "[400, 500.5]", "['a', 'b']", "['a', 'b']"])
        #expect(try values(#"(Host.Prop "interval") (with Guests g (== g g))"#, input()) == ["5", "[True, True]"])
    }

    @Test func controlsAreRecordedLastValueWins() throws {
        let p = try PolicyProgram(
            text: """
                (def qos (other) (guest.Control "balloon_target" (* guest.balloon_cur 0.5)))
                (with Guests guest (qos 0))
                (with Guests g (g.GetControl "balloon_target"))
                (Host.Control "ksm_run" 1)
                (Host.Control "ksm_pages_to_scan" 300)
                (Host.Control "ksm_run" 2)
                (Host.GetControl "ksm_run")
                (Host.GetControl "ksm_sleep_millisecs")
                """, name: "c.policy")
        let r = try p.evaluate(input())
        #expect(r.valueTexts == ["qos", "[None, None]", "[200.0, 250.25]", "None", "None", "None", "2", "None"])
        // The function reads the caller's `guest` although its parameter is `other`.
        #expect(r.hostControls.map(\.name) == ["ksm_run", "ksm_pages_to_scan"])
        #expect(r.hostControl(.ksm_run)?.value == .int(2))
        #expect(r.hostControl(.ksm_run)?.location.line == 6)
        #expect(r.guestControl(.balloon_target, guest: 1)?.value == .float(250.25))
        #expect(try r.guestControl(.balloon_target, guest: 1)?.appliedInteger() == 250)
    }

    @Test func setVarAndGetVarLiveForOneEvaluation() throws {
        #expect(try values(#"(Host.SetVar "k" 5) (Host.GetVar "k") (Host.GetVar "nothing")"#, input()) == ["None", "5", "None"])
    }

    @Test func dottedNamesFindTheInnermostObjectWithTheAttribute() throws {
        // `g` the integer has no balloon_cur, so g.balloon_cur finds the guest further out;
        // a let-bound Host = 5 likewise leaves Host.mem_available to the real Host.
        #expect(
            try values("(defvar g 7) (with Guests g (+ g.balloon_cur 1)) (let ((Host 5)) Host.mem_available) (let ((Host 5)) Host)", input())
                == ["7", "[401, 501.5]", "1000", "5"])
    }

    @Test func hostWithoutSamplesHasNoFields() {
        let e = policyError("Host.mem_free")
        #expect(e?.kind == .unknownField)
        #expect(e?.message.contains("no sample yet") == true)
        #expect(policyError(#"(Host.StatAvg "mem_free")"#)?.kind == .value)
        #expect((try? values(#"(Host.Stat "mem_free")"#)) == ["None"])
    }

    @Test func unknownFieldsMethodsControlsAndPropertiesAreErrors() {
        let i = input()
        let field = policyError("(with Guests g g.balloon_curr)", i)
        #expect(field?.kind == .unknownField)
        #expect(field?.message.contains("did you mean 'balloon_cur'") == true)
        #expect(field?.trace.first?.contains("for g = <Entity guest 'a'>") == true)
        #expect(policyError(#"(Host.Stat "mem_fre")"#, i)?.message.contains("did you mean 'mem_free'") == true)
        let control = policyError(#"(Host.Control "ksm_pages" 5)"#, i)
        #expect(control?.kind == .unknownControl)
        #expect(control?.message.contains("MOM would ignore it silently") == true)
        #expect(policyError(#"(with Guests g (g.Control "ksm_run" 1))"#, i)?.kind == .unknownControl)
        #expect(policyError(#"(with Guests g (g.Prop "pid"))"#, i)?.message.contains("not given") == true)
        #expect(policyError(#"(Host.Control "ksm_run")"#, i)?.kind == .arity)
        #expect(policyError("(Host.mem_free)", i)?.kind == .type)
    }

    @Test func appliedIntegersFollowPythonsInt() throws {
        let at = SourceLocation(file: "f", line: 1, column: 1)
        func applied(_ v: PolicyValue) throws -> Int? { try PolicyControlSetting(name: "x", value: v, location: at).appliedInteger() }
        #expect(try applied(.float(3984588.8)) == 3984588)
        #expect(try applied(.float(-2.9)) == -2)
        #expect(try applied(.bool(true)) == 1)
        #expect(try applied(.string(" 1_000 ")) == 1000)
        #expect(try applied(.none) == nil)
        #expect(throws: PolicyError.self) { try applied(.float(.nan)) }
        #expect(throws: PolicyError.self) { try applied(.string("12.5")) }
        #expect(throws: PolicyError.self) { try applied(.list([])) }
    }

    @Test func samplesStartAtTheFixedValuesOfUnmodelledFields() {
        let s = MOMGuestSample()
        #expect(s[.vcpu_user_limit] == .int(100))
        #expect(s[.balloon_cur] == .none)
        var h = MOMSampleHistory<MOMHostSample>(capacity: 2)
        for v in 1...3 { h.append(hostSample([.mem_free: .int(v)])) }
        #expect(h.samples.map { $0[.mem_free] } == [.int(2), .int(3)])
    }

    @Test func injectedVariablesComeBeforeDefvar() throws {
        let i = PolicyInput(variables: [PolicyVariable("balloonEnabled", .int(1))])
        #expect(try values("(defvar balloonEnabled 0) balloonEnabled", i) == ["1", "1"])
        #expect(policyError("1", PolicyInput(variables: [PolicyVariable("Host", .int(1))]))?.kind == .value)
        #expect(policyError("1", PolicyInput(variables: [PolicyVariable("a.b", .int(1))]))?.kind == .value)
    }

    @Test func controllerActionsFollowMOMsControllers() throws {
        var i = input()
        i.host.samples[i.host.samples.count - 1][.ksm_pages_to_scan] = .int(100)
        i.host.samples[i.host.samples.count - 1][.ksm_run] = .int(1)
        let p = try PolicyProgram(
            text: """
                (with Guests g (if (== (g.Prop "name") "a") (g.Control "balloon_target" 300.9) 0))
                (Host.Control "ksm_sleep_millisecs" 20.5)
                (Host.Control "ksm_pages_to_scan" 100)
                (Host.Control "ksm_run" 1.0)
                (Host.Control "ksm_merge_across_nodes" 0)
                """)
        let actions = try p.evaluate(i).controllerActions(for: i)
        // The Balloon controller truncates; the KSM controller writes only what changes, in its order.
        #expect(actions.balloonTargets == [300, nil])
        #expect(actions.ksmTunables == [.init(.ksm_sleep_millisecs, 20), .init(.ksm_merge_across_nodes, 0)])
        let bad = try PolicyProgram(text: #"(Host.Control "ksm_run" "on")"#, name: "bad.policy").evaluate(i)
        #expect(throws: PolicyError.self) { try bad.controllerActions(for: i) }
    }
}
