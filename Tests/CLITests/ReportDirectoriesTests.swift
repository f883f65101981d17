import Foundation
import Testing

/// `overcommit report` on each kind of output directory, and `consolidate --out`.
@Suite struct ReportDirectoriesTests {
    static let tiny = """
        name: tiny
        duration: 200ms
        sample_interval: 100ms
        host: {memory: 256MiB, hypervisor_reserved: 16MiB, vm_overhead: 8MiB}
        guests:
          - name: a
            memory: 64MiB
            kernel: {kernel_reserved: 8MiB}
            workloads: [{kind: trace, file: traces/small.trace}]

        """

    @Test func consolidateWritesADirectoryThatReportDraws() throws {
        let dir = try scratchDirectory("cons-out")
        defer { cleanup(dir) }
        try write(Self.tiny, to: dir + "/tiny.yaml")
        try write("R 1 0x0\nW 1 0x1000\nR 1 0x2000\n", to: dir + "/traces/small.trace")
        let c = try overcommit(["consolidate", "tiny.yaml", "--vm", "a", "--max-vms", "3", "--jobs", "1", "--out", "c"], in: dir)
        #expect(c.status == 0, "\(c)")
        let text = try #require(read(dir + "/c/consolidation.txt"))
        #expect(c.stdout == text, "the file holds what the console shows")
        #expect(read(dir + "/c/consolidation.json")?.contains("\"evaluated\"") == true)
        #expect(read(dir + "/c/.overcommit-output")?.contains("consolidation.json") == true)
        let r = try overcommit(["report", "c"], in: dir)
        #expect(r.status == 0 && r.stdout == "wrote c/report.html\n", "\(r)")
        #expect(read(dir + "/c/report.html")?.contains("<title>overcommit report: consolidation</title>") == true)
        // A directory with files of the user's is refused before the search, with or without --force.
        try write("mine\n", to: dir + "/c/notes.txt")
        let again = try overcommit(["consolidate", "tiny.yaml", "--vm", "a", "--max-vms", "3", "--out", "c", "--force"], in: dir)
        #expect(again.status == 2 && again.stderr.contains("notes.txt"), "\(again)")
        #expect(read(dir + "/c/notes.txt") == "mine\n")
    }

    @Test func reportRecognisesSweepsAndRefusesShardsAndStrangers() throws {
        let dir = try scratchDirectory("report-kinds")
        defer { cleanup(dir) }
        try write("# overcommit sweep plan\nscenario_name: s\nruns: 1\nshard: 1/2\n", to: dir + "/shard/plan.txt")
        try write("task,point\n", to: dir + "/shard/runs.csv")
        let shard = try overcommit(["report", "shard"], in: dir)
        #expect(shard.status != 0 && shard.stderr.contains("overcommit merge"), "\(shard)")
        try write("hello\n", to: dir + "/other/x.txt")
        let other = try overcommit(["report", "other"], in: dir)
        #expect(other.status != 0 && other.stderr.contains("not an output directory of overcommit"), "\(other)")
        try write("# overcommit sweep plan\nscenario_name: s\nruns: 1\n", to: dir + "/sweep/plan.txt")
        try write("point,host.memory,n,guests.slowdown.max_mean,guests.slowdown.max_ci95\n0,1GiB,1,1.5,\n1,2GiB,1,1.2,\n", to: dir + "/sweep/sweep.csv")
        let sweep = try overcommit(["report", "sweep"], in: dir)
        #expect(sweep.status == 0, "\(sweep)")
        #expect(read(dir + "/sweep/report.html")?.contains("<title>overcommit report: sweep s</title>") == true)
    }
}
