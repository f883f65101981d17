/// A problem the command line reports and the exit code it ends with.
///
/// Every file operation of the command line turns its failure into one of these, naming the
/// path and what went wrong in words (`permission denied`, `read-only file system`), so no
/// raw Foundation or `NSCocoaErrorDomain` error reaches a user.
///
/// Exit codes: 2 for input the command refuses before doing any work (a bad scenario, flag,
/// path or output directory), 1 for a failure after the work was done (an output that could
/// not be written), 128 + the signal number for a run stopped by SIGINT or SIGTERM (130, 143),
/// as shells report a process ended by that signal.
public struct CLIProblem: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public var exitCode: Int32

    public init(_ message: String, exitCode: Int32 = 2) {
        self.message = message
        self.exitCode = exitCode
    }

    public var description: String { message }
}
