import ArgumentParser
import PolicyLanguage
import Foundation

/// `overcommit policy eval|check FILE...`: try oVirt MOM policy files without a scenario.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract:
            "Try oVirt MOM policy files (/etc/vdsm/mom.d/*.policy, MOM's *.rules): evaluate them against sample data, or check them against MOM's data model.",
        discussion: """
            FILE arguments are policy files, joined in the order given (as MOM joins the files of \
            its policy directory), or directories, whose *.policy files are taken in MOM's order \
            (sorted by name). See docs/policy-language.md.
            """,
        subcommands: [PolicyEval.self, PolicyCheck.self, PolicyFields.self])
}

/// Reads policy files and directories into sources, in MOM's order within a directory.
func readPolicySources(_ paths: [String]) -> [PolicySource] {
    var sources: [PolicySource] = []
    let fm = FileManager.default
    for path in paths {
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else { fail("\(path): no such policy file or directory") }
        var files: [String] = []
        if isDir.boolValue {
            guard let names = try? fm.contentsOfDirectory(atPath: path) else { fail("\(path): cannot list the directory") }
            files = PolicySource.momDirectoryOrder(names).map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
            if files.isEmpty { fail("\(path): no *.policy files in the directory") }
        } else {
            files = [path]
        }
        for f in files {
            guard let data = fm.contents(atPath: f) else { fail("\(f): cannot read the policy file") }
            guard let text = String(data: data, encoding: .utf8) else { fail("\(f): not UTF-8 text") }
            sources.append(PolicySource(name: f, text: text))
        }
    }
    return sources
}

/// Parses the sources, or exits 2 naming the syntax error.
func parsePolicy(_ sources: [PolicySource]) -> PolicyProgram {
    do { return try PolicyProgram(sources: sources) } catch { fail("\(error)") }
}

/// `NAME=VALUE` of --set, --host, --guest.
func splitAssignment(_ text: String, _ flag: String) -> (key: String, value: String) {
    guard let eq = text.firstIndex(of: "=") else { fail("\(flag) \(text): expected KEY=VALUE", code: 64) }
    let key = text[..<eq].trimmingCharacters(in: .whitespaces)
    guard !key.isEmpty else { fail("\(flag) \(text): the key before '=' is empty", code: 64) }
    return (key, String(text[text.index(after: eq)...]))
}

struct PolicyEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate policy files once and print the value of each top-level expression, then the controls they set.",
        discussion: """
            The values print one per line as MOM's parser script prints them (Python's str). \
            Host and the guests come from --sample and the --host/--guest flags (the flags win): \
            MOM's fields in MOM's units (KiB), several values being a history, oldest first \
            (Stat reads the last, StatAvg averages them). Without host data Host has no sample, \
            as before MOM's first collection.

            Example: overcommit policy eval /etc/vdsm/mom.d --set balloonEnabled=1 \\
                --host mem_available=16777216 --host mem_free=2097152 \\
                --guest vm1:balloon_cur=4194304 --guest vm1:balloon_max=4194304 \\
                --guest vm1:balloon_min=1048576 --guest vm1:mem_unused=1048576
            """)

    @Argument(help: "Policy files or directories, joined in this order.")
    var files: [String]

    @Option(help: "Sample file with [host], [guest NAME] and [variables] sections (docs/policy-language.md).")
    var sample: String?

    @Option(help: ArgumentHelp("A Host field or property: FIELD=V[,V...] (history, oldest first).", valueName: "field=values"))
    var host: [String] = []

    @Option(help: ArgumentHelp("A guest's field or property: NAME:FIELD=V[,V...]; NAME alone adds a guest with no data.", valueName: "name:field=values"))
    var guest: [String] = []

    @Option(name: .customLong("set"), help: ArgumentHelp("An injected variable (balloonEnabled, ksmEnabled, ...): NAME=VALUE.", valueName: "name=value"))
    var variables: [String] = []

    @Option(help: "Sample history length (MOM's sample-history-length).")
    var history: Int = 10

    @Flag(name: .customLong("values-only"), help: "Print only the values, exactly as MOM's parser script (no controls).")
    var valuesOnly = false

    @Flag(help: "Print the (debug ...) messages on stderr with their file and line.")
    var debug = false

    mutating func run() throws {
        guard history >= 1 else { fail("--history: must be at least 1; got \(history)", code: 64) }
        let program = parsePolicy(readPolicySources(files))
        var builder = MOMSampleBuilder(historyLength: history)
        do {
            if let sample {
                guard let data = FileManager.default.contents(atPath: sample), let text = String(data: data, encoding: .utf8) else {
                    fail("\(sample): cannot read the sample file")
                }
                try builder.read(text, file: sample)
            }
        } catch { fail("\(error)") }
        do {
            for h in host {
                let (k, v) = splitAssignment(h, "--host")
                try builder.setHost(k, try MOMSampleBuilder.parseValues(v) { _ in "--host \(h)" }, origin: "--host \(h)")
            }
            for g in guest {
                guard let colon = g.firstIndex(of: ":") else {
                    try builder.addGuest(g, origin: "--guest \(g)")
                    continue
                }
                let name = String(g[..<colon])
                let (k, v) = splitAssignment(String(g[g.index(after: colon)...]), "--guest")
                try builder.setGuest(name, k, try MOMSampleBuilder.parseValues(v) { _ in "--guest \(g)" }, origin: "--guest \(g)")
            }
            for s in variables {
                let (k, v) = splitAssignment(s, "--set")
                let values = try MOMSampleBuilder.parseValues(v) { _ in "--set \(s)" }
                guard values.count == 1 else { fail("--set \(s): one value: a number, a quoted string or nil", code: 64) }
                try builder.setVariable(k, values[0], origin: "--set \(s)")
            }
        } catch { fail("\(error)", code: 64) }
        let input = builder.build()
        let result: PolicyEvaluation
        do { result = try program.evaluate(input) } catch { fail("\(error)") }
        if debug {
            for m in result.debugMessages {
                FileHandle.standardError.write(Data("\(m.location.fileAndLine): \(m.text)\n".utf8))
            }
        }
        for t in result.valueTexts { print(t) }
        if valuesOnly { return }
        var lines: [String] = []
        func describe(_ owner: String, _ c: PolicyControlSetting, _ unit: String) -> String {
            let shown = c.value.pythonRepr()
            do {
                guard let applied = try c.appliedInteger() else { return "  \(owner).\(c.name) = None  (not applied)" }
                let suffix = unit == "KiB" ? " KiB" : ""
                return "  \(owner).\(c.name) = \(shown)" + (String(applied) == shown ? suffix : "  (applied: \(applied)\(suffix))")
            } catch {
                return "  \(owner).\(c.name) = \(shown)  (MOM's controller fails: \(error.message))"
            }
        }
        for c in result.hostControls {
            lines.append(describe("Host", c, MOMHostControl(rawValue: c.name)?.info.unit ?? ""))
        }
        for (i, g) in input.guests.enumerated() {
            for c in result.guestControls[i] { lines.append(describe(g.name, c, MOMGuestControl(rawValue: c.name)?.info.unit ?? "")) }
        }
        print(lines.isEmpty ? "-- no controls set" : "-- controls (what MOM's controllers apply)")
        for l in lines { print(l) }
    }
}

struct PolicyCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Parse policy files and check names, fields, controls and argument counts against MOM's data model, without running them.",
        discussion: """
            Exits 2 when a file has an error. Scoping in MOM is dynamic, so a symbol counts as \
            defined when any defvar, let, parameter or with of the files defines it, or --set \
            names it (the variables the oVirt engine injects).
            """)

    @Argument(help: "Policy files or directories, joined in this order.")
    var files: [String]

    @Option(name: .customLong("set"), help: ArgumentHelp("A variable injected from outside: NAME or NAME=VALUE (the value is not used).", valueName: "name"))
    var variables: [String] = []

    mutating func run() throws {
        let sources = readPolicySources(files)
        let program = parsePolicy(sources)
        var names: [String] = []
        for v in variables {
            let name = v.split(separator: "=", maxSplits: 1).first.map(String.init) ?? v
            if let p = PolicyProgram.variableNameProblem(name) { fail("--set \(v): \(p)", code: 64) }
            names.append(name)
        }
        let report = program.check(injectedVariables: names)
        for d in report.diagnostics { FileHandle.standardError.write(Data((d.description + "\n").utf8)) }
        let errors = report.errors.count
        if errors > 0 { fail("\(errors) error\(errors == 1 ? "" : "s") in \(sources.count) file\(sources.count == 1 ? "" : "s")") }
        print(
            "ok: \(sources.count) file\(sources.count == 1 ? "" : "s"), \(program.expressions.count) top-level expressions, \(report.functions.count) functions"
        )
        func show(_ label: String, _ items: [String]) { if !items.isEmpty { print("\(label): \(items.joined(separator: ", "))") } }
        show("Host fields read", report.hostFieldsRead)
        show("guest fields read", report.guestFieldsRead)
        show("Host controls set", report.hostControlsSet)
        show("guest controls set", report.guestControlsSet)
    }
}

struct PolicyFields: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fields",
        abstract:
            "Print MOM's data model as overcommit provides it: Host and guest fields with their units, properties, controls, engine variables and methods (Markdown)."
    )

    mutating func run() throws {
        print(MOMDataModelReference.markdown(), terminator: "")
    }
}
