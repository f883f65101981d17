import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The repository root (Tests/CLITests/ is two levels down).
let repoRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The `overcommit` binary SwiftPM built next to this test bundle (the test target depends on
/// the executable target, so `swift test` builds it first); `OVERCOMMIT` overrides it.
let overcommitBinary: String = {
    if let b = ProcessInfo.processInfo.environment["OVERCOMMIT"], !b.isEmpty { return b }
    let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var dir = me.deletingLastPathComponent()
    // On Linux the bundle is an executable file; on Darwin a folder with the binary inside.
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("overcommit").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir.deleteLastPathComponent()
    }
    return repoRoot + "/.build/debug/overcommit"
}()

/// How a command ended.
struct CLIResult: CustomStringConvertible {
    var status: Int32
    /// The signal that ended it, when one did (a crash: SIGILL for a Swift trap, SIGSEGV, SIGABRT).
    var signal: Int32?
    /// It ran past the time limit and was killed (a hang).
    var hung: Bool
    var stdout: String
    var stderr: String

    var description: String {
        "exit \(status)" + (signal.map { " signal \($0)" } ?? "") + (hung ? " (hung, killed)" : "")
            + "\n--- stdout\n\(stdout.prefix(2000))\n--- stderr\n\(stderr.prefix(4000))"
    }
    /// Ended by exit(3) (no signal, no hang).
    var exited: Bool { signal == nil && !hung }
}

/// Runs `overcommit ARGS` in `cwd` with `stdin` as its standard input; kills it after
/// `limit` seconds (a hang, not a timing assertion: every command here takes well under it).
@discardableResult
func overcommit(_ args: [String], in cwd: String, stdin: String? = nil, limit: Double = 300) throws -> CLIResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: overcommitBinary)
    p.arguments = args
    p.currentDirectoryURL = URL(fileURLWithPath: cwd)
    let out = Pipe(), err = Pipe(), input = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = input
    try p.run()
    let fired = KillFlag()
    let pid = p.processIdentifier
    let killer = DispatchWorkItem {
        fired.set(); kill(pid, SIGKILL)
    }
    DispatchQueue.global().asyncAfter(deadline: .now() + limit, execute: killer)
    // Read both pipes while the process runs (a full pipe would block it).
    let outData = Collected(), errData = Collected()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { outData.set(out.fileHandleForReading.readDataToEndOfFile()) }
    DispatchQueue.global().async(group: group) { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    p.waitUntilExit()
    killer.cancel()
    group.wait()
    let hung = fired.get()
    let signaled = p.terminationReason == .uncaughtSignal
    return CLIResult(
        status: signaled ? -1 : p.terminationStatus,
        signal: signaled && !hung ? p.terminationStatus : nil,
        hung: hung, stdout: String(decoding: outData.get(), as: UTF8.self), stderr: String(decoding: errData.get(), as: UTF8.self))
}

final class KillFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    func get() -> Bool { lock.lock(); defer { lock.unlock() }; return value }
}

final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}

/// A fresh directory for one test, removed by the caller (`defer { cleanup(dir) }`).
func scratchDirectory(_ tag: String) throws -> String {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("overcommit-cli-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
    return URL(fileURLWithPath: base.path).resolvingSymlinksInPath().path
}

func cleanup(_ dir: String) { try? FileManager.default.removeItem(atPath: dir) }

func write(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: false, encoding: .utf8)
}

func read(_ path: String) -> String? { FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } }

func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

/// Every file under `dir` with its bytes (a snapshot to compare before and after a command).
func snapshot(_ dir: String) -> [String: Data] {
    var out: [String: Data] = [:]
    guard let e = FileManager.default.enumerator(atPath: dir) else { return out }
    for case let rel as String in e {
        let p = dir + "/" + rel
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), !isDir.boolValue {
            out[rel] = FileManager.default.contents(atPath: p) ?? Data()
        } else {
            out[rel + "/"] = Data()
        }
    }
    return out
}

/// A scenario that runs in a fraction of a second in a debug build.
let tinyScenario = """
    name: tiny
    seed: 3
    duration: 300ms
    sample_interval: 100ms
    host: {memory: 1GiB, hypervisor_reserved: 64MiB, vm_overhead: 8MiB}
    guests:
      - name: g
        memory: 64MiB
        kernel: {kernel_reserved: 8MiB}
        workloads:
          - {kind: batch, peak: 24MiB, step: 8MiB, sweeps: 1, access_rate: 100000}

    """

/// A scenario that runs for minutes in a debug build (for the signal tests).
let longScenario = """
    name: long
    seed: 3
    duration: 1h
    sample_interval: 100ms
    host: {memory: 1GiB, hypervisor_reserved: 64MiB, vm_overhead: 8MiB}
    guests:
      - name: g
        memory: 64MiB
        kernel: {kernel_reserved: 8MiB}
        swap: {size: 64MiB, device: ssd}
        workloads:
          - {kind: batch, peak: 96MiB, step: 8MiB, sweeps: 1000, access_rate: 100000}

    """
