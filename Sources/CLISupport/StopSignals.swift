#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The first SIGINT or SIGTERM received since `StopSignals.install()` (0: none). A signal
/// handler may only store to a lock-free atomic; the simulation polls it between events.
private let receivedSignal = Atomic<Int32>(0)

/// SIGINT (Ctrl-C) and SIGTERM (`kill`, Slurm's `scancel`, Kubernetes' pod termination) as
/// a request to stop: the run stops at its next event and writes what it simulated so far,
/// marked partial. A second signal ends the process at once, as usual (the handler resets
/// itself, SA_RESETHAND).
///
/// The command line installs the handlers; the model only sees a closure
/// (`SimulationOptions.stop`) that says whether to stop and why.
public enum StopSignals {
    /// Installs the handlers. SIGINT stays ignored when the parent ignored it (a shell's
    /// background job, `nohup`), as POSIX shells expect of their children.
    ///
    /// The signals are also unblocked: a process inherits its parent's signal mask, and a
    /// parent that starts programs from a thread with signals blocked (thread pools do)
    /// would otherwise leave Ctrl-C and `kill` pending for the whole run.
    public static func install() {
        for sig in [SIGINT, SIGTERM] {
            var old = sigaction()
            sigaction(sig, nil, &old)
            if sig == SIGINT, isIgnored(old) { continue }
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = { s in
                _ = receivedSignal.compareExchange(expected: 0, desired: s, ordering: .relaxed)
            }
            #else
            action.__sigaction_u.__sa_handler = { s in
                _ = receivedSignal.compareExchange(expected: 0, desired: s, ordering: .relaxed)
            }
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = Int32(truncatingIfNeeded: SA_RESETHAND)
            sigaction(sig, &action, nil)
            // Unblocked only once the handler is in place (a pending signal arrives now).
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, sig)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
        }
    }

    static func isIgnored(_ a: sigaction) -> Bool {
        #if canImport(Glibc)
        let handler = a.__sigaction_handler.sa_handler
        #else
        let handler = a.__sigaction_u.__sa_handler
        #endif
        guard let handler else { return false }
        return unsafeBitCast(handler, to: Int.self) == 1  // SIG_IGN is (void (*)(int)) 1
    }

    /// The signal received, if any.
    public static var received: Int32? {
        let s = receivedSignal.load(ordering: .relaxed)
        return s == 0 ? nil : s
    }

    /// The signal's name: SIGINT, SIGTERM.
    public static func name(_ sig: Int32) -> String {
        switch sig {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(sig)"
        }
    }

    /// Why to stop ("interrupted by SIGINT"), or nil to go on: the closure for `SimulationOptions.stop`.
    @Sendable public static func stopReason() -> String? {
        received.map { "interrupted by \(name($0))" }
    }

    /// The exit code of a command stopped by `sig`: 128 + its number (130 for SIGINT, 143 for
    /// SIGTERM), what a shell reports for a process killed by that signal.
    public static func exitCode(_ sig: Int32) -> Int32 { 128 + sig }
}
