import CLISupport
import Foundation
import Testing

/// The command line's file handling, in-process.
@Suite struct CLISupportTests {
    @Test func pathsAreSplitAsDirnameDoes() {
        #expect(FileSystem.parent("a/b") == "a")
        #expect(FileSystem.parent("b") == ".")
        #expect(FileSystem.parent("/b") == "/")
        #expect(FileSystem.parent("a/b/") == "a")
        #expect(FileSystem.trimmingTrailingSlashes("runs/x//") == "runs/x")
        #expect(FileSystem.trimmingTrailingSlashes("/") == "/")
        #expect(FileSystem.isSameOrInside("/a/b", "/a") && FileSystem.isSameOrInside("/a", "/a"))
        #expect(!FileSystem.isSameOrInside("/ab", "/a"))
        #expect(FileSystem.isSameOrInside("/anything", "/"))
    }

    @Test func invalidUTF8IsPlacedByLineAndColumn() {
        let bytes = Array("R 1 0x0\nW 1 é".utf8) + [0xFF] + Array("\n".utf8)
        do {
            _ = try FileSystem.utf8Text(bytes, path: "t.trace", what: "the trace")
            Issue.record("expected a problem")
        } catch {
            #expect(error.message == "t.trace: the trace is not UTF-8 text: byte 0xff at line 2, column 6")  // W, space, 1, space, é, then the byte
            #expect(error.exitCode == 2)
        }
        #expect((try? FileSystem.utf8Text(Array("é\n".utf8), path: "x", what: "y")) == "é\n")
    }

    @Test func theMarkerListsTheFilesAndIsDeterministic() {
        let a = OutputDirectory.markerText(files: ["plan.txt", "runs.csv"])
        #expect(a == OutputDirectory.markerText(files: ["plan.txt", "runs.csv"]))
        #expect(a.hasSuffix("plan.txt\nruns.csv\n"))
        #expect(a.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty } == ["plan.txt", "runs.csv"])
    }

    @Test func replaceabilityFollowsTheRules() throws {
        let dir = try scratchDirectory("rules"); defer { cleanup(dir) }
        try OutputDirectory.write([("a.txt", "1\n")], to: dir + "/own", force: false, inputs: [])
        #expect(OutputDirectory.whyNotReplaceable(dir + "/own", inputs: []) == nil)
        // An earlier report in it does not make it foreign.
        try write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>overcommit report: x</title>\n", to: dir + "/own/report.html")
        #expect(OutputDirectory.whyNotReplaceable(dir + "/own", inputs: []) == nil)
        // A listed name that became a directory, or an unlisted file, does.
        try write("x\n", to: dir + "/own/extra.txt")
        #expect(OutputDirectory.whyNotReplaceable(dir + "/own", inputs: [])?.contains("extra.txt") == true)
        try FileManager.default.removeItem(atPath: dir + "/own/extra.txt")
        try FileManager.default.removeItem(atPath: dir + "/own/a.txt")
        try FileManager.default.createDirectory(atPath: dir + "/own/a.txt", withIntermediateDirectories: false)
        #expect(OutputDirectory.whyNotReplaceable(dir + "/own", inputs: [])?.contains("a.txt") == true)
        // An input inside it.
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: false)
        #expect(OutputDirectory.whyNotReplaceable(dir + "/empty", inputs: []) == nil)
        #expect(
            OutputDirectory.whyNotReplaceable(dir + "/empty", inputs: [RunInput(path: dir + "/empty", role: "a shard being merged")])?
                .contains("is a shard being merged") == true)
        #expect(OutputDirectory.whyNotReplaceable(dir + "/nothing-here", inputs: []) == nil)
    }

    @Test func aReplacedDirectoryKeepsNoOldCopyAndWritesAtomically() throws {
        let dir = try scratchDirectory("atomic"); defer { cleanup(dir) }
        try OutputDirectory.write([("x", "1\n")], to: dir + "/o/", force: false, inputs: [])
        #expect(read(dir + "/o/x") == "1\n")
        #expect(throws: CLIProblem.self) { try OutputDirectory.write([("x", "2\n")], to: dir + "/o", force: false, inputs: []) }
        let warnings = try OutputDirectory.write([("y", "2\n")], to: dir + "/o", force: true, inputs: [])
        #expect(warnings.isEmpty)
        #expect(!exists(dir + "/o/x") && read(dir + "/o/y") == "2\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["o"])
    }

    @Test func aScenarioSourceKnowsWherePathsResolve() throws {
        let dir = try scratchDirectory("source"); defer { cleanup(dir) }
        try write(tinyScenario, to: dir + "/exp/t.yaml")
        let s = try ScenarioSource.read(dir + "/exp/t.yaml")
        #expect(s.baseDir == dir + "/exp" && s.inputPath == dir + "/exp/t.yaml")
        #expect(s.resolve("traces/a.trace") == dir + "/exp/traces/a.trace" && s.resolve("/abs") == "/abs")
        #expect(ScenarioSource.builtin.file == "<built-in default>" && ScenarioSource.builtin.inputPath == nil)
        #expect(throws: CLIProblem.self) { try ScenarioSource.read(dir + "/exp") }
        #expect(throws: CLIProblem.self) { try ScenarioSource.read(dir + "/none.yaml") }
        #expect(throws: CLIProblem.self) { try ScenarioSource.read("") }
    }
}
