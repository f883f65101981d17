import Experiments
import PolicyLanguage
import Scenarios
import Simulation
import Workloads

/// Everything `run` checks before its first event, in one place, so `validate`, `sweep` and
/// `consolidate` refuse exactly what `run` refuses: the scenario (with `--set` overrides),
/// the files it names (traces as UTF-8 text, memory images), and the simulation's own setup
/// (each workload built in its guest: a `data_file` or `docroot` that is not in the guest's
/// image, a trace that does not parse).
public enum RunSetup {
    /// Loads and validates the scenario with `overrides` applied (as `sweep --set` does).
    public static func load(_ source: ScenarioSource, overrides: [ScenarioOverride] = []) throws(CLIProblem) -> ScenarioConfig {
        do {
            return try ScenarioOverrides.load(text: source.text, file: source.file, overrides: overrides)
        } catch {
            if source.file == ScenarioSource.builtinName && overrides.isEmpty {
                throw CLIProblem("the built-in default scenario is invalid:\n\(error)", exitCode: 70)
            }
            throw CLIProblem(error.description)
        }
    }

    /// Reads the files `c` refers to (trace files, memory images), resolved against the
    /// scenario's folder, into `options`; a file already there (another sweep point names it
    /// too) is read once. Problems name the scenario's file, line and key.
    public static func loadResources(_ c: ScenarioConfig, source: ScenarioSource, into o: inout SimulationOptions) throws(CLIProblem) {
        var problems: [String] = []
        func problem(_ keyPath: String, _ message: String) {
            problems.append(ScenarioPlaces.error(file: source.file, text: source.text, keyPath: keyPath, message: message).description)
        }
        for (gi, g) in c.guests.enumerated() {
            for (wi, w) in g.workloads.enumerated() {
                for p in w.resourcePaths where o.textResources[p] == nil {
                    let key = "guests[\(gi)].workloads[\(wi)].file"
                    do {
                        let path = source.resolve(p)
                        let bytes = try FileSystem.readAll(path, what: "the trace")
                        o.textResources[p] = try FileSystem.utf8Text(bytes, path: path, what: "the trace")
                    } catch {
                        problem(key, error.message)
                    }
                }
            }
        }
        for (ii, img) in c.images.enumerated() {
            guard let p = img.memory_image, o.memoryImages[p] == nil else { continue }
            let path = source.resolve(p)
            let bytes: [UInt8]
            do { bytes = try FileSystem.readAll(path, what: "the memory image") } catch {
                problem("images[\(ii)].memory_image", error.message)
                continue
            }
            guard !bytes.isEmpty else {
                problem("images[\(ii)].memory_image", "\(path): the memory image is empty (0 bytes); it needs at least one 4 KiB page")
                continue
            }
            o.memoryImages[p] = bytes
        }
        if c.host.policy.isProgram && o.policySources[c.host.policy.files] == nil {
            do { o.policySources[c.host.policy.files] = try policySources(c.host.policy.files, source: source) } catch {
                problem("host.policy.files", error.message)
            }
        }
        if !problems.isEmpty { throw CLIProblem(problems.joined(separator: "\n")) }
    }

    /// The MOM policy files `paths` name (resolved against the scenario's folder): a file as
    /// it is, a directory as its `*.policy` files (MOM's `policy-dir`), all joined in
    /// file-name order as MOM joins a policy directory (by the name before `.policy`; files
    /// of the same name keep the order given). Each source is named by its path as the user
    /// can open it, so errors point at the real file.
    public static func policySources(_ paths: [String], source: ScenarioSource) throws(CLIProblem) -> [PolicySource] {
        var files: [String] = []
        for p in paths {
            let path = source.resolve(p)
            switch FileSystem.kind(path, followingLinks: true) {
            case .directory?:
                let names = PolicySource.momDirectoryOrder(try FileSystem.entries(ofDirectory: path))
                guard !names.isEmpty else { throw CLIProblem("\(path): no *.policy files in the directory") }
                files += names.map { FileSystem.trimmingTrailingSlashes(path) + "/" + $0 }
            default:
                files.append(path)
            }
        }
        func baseName(_ f: String) -> String { f.split(separator: "/").last.map(String.init) ?? f }
        let ordered = files.enumerated().sorted { a, b in
            let ka = PolicySource.momPolicyName(baseName(a.element)), kb = PolicySource.momPolicyName(baseName(b.element))
            if ka != kb { return ka.unicodeScalars.lexicographicallyPrecedes(kb.unicodeScalars) }
            return a.offset < b.offset
        }.map(\.element)
        var sources: [PolicySource] = []
        for f in ordered {
            let bytes = try FileSystem.readAll(f, what: "the policy file")
            sources.append(PolicySource(name: f, text: try FileSystem.utf8Text(bytes, path: f, what: "the policy file")))
        }
        return sources
    }

    /// The files `c` reads (the scenario file, traces, memory images): an output directory
    /// must not contain them.
    public static func inputs(_ c: ScenarioConfig, source: ScenarioSource) -> [RunInput] {
        var out: [RunInput] = []
        if let p = source.inputPath { out.append(RunInput(path: p, role: "the scenario file")) }
        for g in c.guests {
            for w in g.workloads {
                for p in w.resourcePaths { out.append(RunInput(path: source.resolve(p), role: "a trace file")) }
            }
        }
        for img in c.images {
            if let p = img.memory_image { out.append(RunInput(path: source.resolve(p), role: "a memory image")) }
        }
        if c.host.policy.isProgram {
            for p in c.host.policy.files { out.append(RunInput(path: source.resolve(p), role: "a policy file")) }
        }
        return out
    }

    /// Builds the simulation of `c`: the host, every guest and its workloads. A problem is
    /// placed at its key in the scenario (`file:line:column: guests[1].workloads[0]: ...`).
    public static func build(_ c: ScenarioConfig, options: SimulationOptions, source: ScenarioSource) throws(CLIProblem) -> Simulation {
        do { return try Simulation(config: c, options: options) } catch { throw placed(error, source: source) }
    }

    /// Every problem `build` would find (`Simulation.checkSetup`), without building the host
    /// and full-size guests: what `validate`, `sweep` and `consolidate` check up front.
    public static func check(_ c: ScenarioConfig, options: SimulationOptions, source: ScenarioSource) throws(CLIProblem) {
        let problems = Simulation.setupProblems(config: c, options: options)
        guard problems.isEmpty else { throw CLIProblem(problems.map { placed($0, source: source).message }.joined(separator: "\n")) }
    }

    /// A setup problem placed at its key in the scenario; a trace's own `file:line` names the
    /// trace as the user can open it (the scenario names it relative to its folder).
    static func placed(_ error: any Error, source: ScenarioSource) -> CLIProblem {
        guard let e = error as? SimulationSetupError else { return CLIProblem("\(source.file): \(error)") }
        var message = e.message
        var keyPath = e.keyPath
        if var t = e.underlying as? TraceParseError, let p = t.path {
            t.path = source.resolve(p)
            message = t.description
        }
        if case .missingFile(_, let key, _)? = e.underlying as? WorkloadError {
            keyPath += "." + key  // at the data_file or docroot line itself
        }
        return CLIProblem(ScenarioPlaces.error(file: source.file, text: source.text, keyPath: keyPath, message: message).description)
    }
}
