import Testing
@testable import Scenarios

/// Issue 12 item 7: a chain of merge keys that doubles at each line made `validate`
/// exponential (22 lines: hours). The loader now refuses such a scenario at once, with
/// file:line, and still loads ordinary templates.
@Suite struct YAMLExpansionTests {
    /// `t_i` merges `t_{i-1}` twice; the guest merges the last one.
    static func doublingChain(_ n: Int) -> String {
        var lines = ["templates:", "  t0: &t0 {vcpus: 1}"]
        for i in 1...n { lines.append("  t\(i): &t\(i) {<<: [*t\(i - 1), *t\(i - 1)]}") }
        lines.append("guests: [{<<: *t\(n), name: g, memory: 128MiB}]")
        return lines.joined(separator: "\n")
    }

    @Test func aDoublingChainOf22MergeKeysIsRefusedWithItsLine() {
        let errors = loadErrors(Self.doublingChain(22), file: "chain.yaml")
        #expect(errors.count == 1)
        let e = errors.first
        #expect(e?.message.contains("more than \(YAMLExpansion.maxNodes) YAML nodes") == true)
        #expect(e?.line != nil && e!.line! >= 2 && e!.line! <= 25)
        #expect(e?.description.hasPrefix("chain.yaml:") == true)
    }

    @Test func aLongLinearChainIsRefusedToo() {
        var lines = ["templates:", "  t0: &t0 {vcpus: 1}"]
        for i in 1...3000 { lines.append("  t\(i): &t\(i) {<<: *t\(i - 1)}") }
        lines.append("guests: [{<<: *t3000, name: g, memory: 128MiB}]")
        #expect(loadErrors(lines.joined(separator: "\n")).first?.message.contains("YAML nodes") == true)
    }

    @Test func shortChainsAndOrdinaryTemplatesStillLoad() {
        #expect(loadValid(Self.doublingChain(6)) != nil)
        let c = loadValid(
            """
            templates:
              web: &web {memory: 256MiB, workloads: [{kind: web}]}
            guests:
              - {<<: *web, name: a}
              - {<<: *web, name: b, memory: 512MiB}
            """)
        #expect(c?.guests.map(\.memory.bytes) == [256 << 20, 512 << 20])
    }

    @Test func theBoundCountsEveryUseOfAnAlias() {
        // 2^k uses from k lines: within the bound for small k, beyond it for large k.
        #expect(loadValid(Self.doublingChain(10)) != nil)
        #expect(loadErrors(Self.doublingChain(17)).first?.message.contains("YAML nodes") == true)
    }
}
