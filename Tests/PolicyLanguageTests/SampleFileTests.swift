import Testing
@testable import PolicyLanguage

/// The sample files and flags of `overcommit policy eval`.
@Suite struct SampleFileTests {
    func read(_ text: String, history: Int = 10) throws -> PolicyInput {
        var b = MOMSampleBuilder(historyLength: history)
        try b.read(text, file: "s.ini")
        return b.build()
    }

    func readError(_ text: String) -> PolicyError? {
        do { _ = try read(text); return nil } catch { return error as? PolicyError }
    }

    @Test func historiesAlignOnTheNewestSample() throws {
        let input = try read(
            """
            # a host and two guests
            [host]
            interval = 5
            mem_available = 16777216
            mem_free = 3145728, 2621440 2097152   # oldest first
            [guest "web 1"]
            uuid = "u-1"
            balloon_cur = 4194304
            mem_unused = nil 1048576
            [guest db]
            [variables]
            balloonEnabled = 1
            name = 'x'
            """)
        #expect(input.host.interval == 5)
        #expect(input.host.samples.count == 3)
        #expect(input.host.samples.map { $0[.mem_free] } == [.int(3145728), .int(2621440), .int(2097152)])
        #expect(input.host.samples.map { $0[.mem_available] } == [.none, .none, .int(16777216)])
        #expect(input.guests.map(\.name) == ["web 1", "db"])
        #expect(input.guests[0].uuid == "u-1")
        #expect(input.guests[0].samples.map { $0[.mem_unused] } == [.none, .int(1048576)])
        #expect(input.guests[1].samples.count == 1)
        #expect(input.guests[1].samples[0][.vcpu_user_limit] == .int(100))
        #expect(input.variables == [PolicyVariable("balloonEnabled", .int(1)), PolicyVariable("name", .string("x"))])
        let v = try PolicyProgram(text: #"(Host.StatAvg "mem_free") (with Guests g (g.Prop "name"))"#).evaluate(input).valueTexts
        #expect(v == ["2621440.0", "['web 1', 'db']"])
    }

    @Test func noHostSectionMeansNoHostSample() throws {
        #expect(try read("[guest a]\nballoon_cur = 1").host.samples.isEmpty)
    }

    @Test func errorsNameFileLineAndColumn() {
        let unknown = readError("[host]\nmem_fre = 1")
        #expect(unknown?.message.hasPrefix("s.ini:2:1: mem_fre is not a field of Host; did you mean 'mem_free'?") == true)
        #expect(readError("[host]\nmem_free = 12x")?.message.hasPrefix("s.ini:2:14:") == true)
        #expect(readError("[host]\nmem_free = 5.")?.kind == .syntax)
        #expect(readError("[host]\nmem_free = \"a\"")?.kind == .type)
        #expect(readError("[host]\nmem_free = 1\nmem_free = 2")?.message.contains("given twice") == true)
        #expect(readError("[hosts]")?.message.contains("unknown section") == true)
        #expect(readError("mem_free = 1")?.message.contains("outside a section") == true)
        #expect(readError("[guest a]\n[guest a]")?.message.contains("appears twice") == true)
        #expect(readError("[host]\nmem_free = 1 2 3 4 5 6 7 8 9 10 11")?.message.contains("sample history of 10") == true)
        #expect(readError("[guest a]\nio_tune = 1")?.message.contains("does not model") == true)
        #expect(readError("[variables]\nHost = 1")?.message.contains("reserved") == true)
    }
}
