/// An error in a policy program: where it is and what is wrong, in words a policy author can
/// act on.
///
/// MOM logs `Policy error: ... on line N` (or Python's exception text) and silently stops
/// managing the host; overcommit stops with this error instead. Line numbers are the real
/// ones in each file (MOM's scanner does not count the newline that ends a comment, so its
/// line numbers drift by one per comment line above the error).
public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in the terms of MOM's evaluator (and of Python, which runs it).
    public enum Kind: String, Sendable, Equatable {
        /// The text is not a program: an unknown character, an unterminated string, an
        /// unbalanced bracket, a malformed number.
        case syntax
        /// A symbol no scope defines (MOM: `undefined symbol X`).
        case undefinedSymbol
        /// A field, method or property that Host or a guest does not have.
        case unknownField
        /// A control name MOM's controllers do not know.
        case unknownControl
        /// A call with the wrong number of arguments.
        case arity
        /// A form whose arguments have the wrong shape (`let` without a binding list,
        /// `set` of something that is not a symbol).
        case malformed
        /// An operation on values of the wrong types (Python's `TypeError`).
        case type
        /// An operation on a value it cannot take: division by zero, a negative shift count,
        /// an empty block, an integer beyond 64 bits (Python's `ZeroDivisionError`,
        /// `ValueError`, `IndexError`, `OverflowError`).
        case value
        /// Recursion deeper than the evaluator allows (Python's `RecursionError`).
        case recursion
    }

    public var kind: Kind
    public var message: String
    /// Where the error is; nil only for errors that belong to no place in the program.
    public var location: SourceLocation?
    /// The failing expression as written (whitespace collapsed), for run-time errors.
    public var expression: String?
    /// The function calls and `with` iterations the error happened in, innermost first:
    /// `in shrink_guest (called at 02-balloon.policy:107)`, `for guest 'vm2' of Guests`.
    public var trace: [String]
    /// When a simulation ran the policy: the simulated time of the evaluation, as the
    /// simulation prints times (set by the simulation, not by the evaluator).
    public var simulatedTime: String?

    public init(_ kind: Kind, _ message: String, at location: SourceLocation? = nil, expression: String? = nil, trace: [String] = []) {
        self.kind = kind; self.message = message; self.location = location; self.expression = expression; self.trace = trace
    }

    /// `file:line:column: message` for syntax errors; `file:line: message` with the
    /// expression and the call trace for run-time errors.
    public var description: String {
        var s: String
        if let location {
            s = (kind == .syntax ? location.description : location.fileAndLine) + ": "
        } else {
            s = ""
        }
        if let simulatedTime { s += "at simulated time \(simulatedTime): " }
        s += message
        if let expression, !expression.isEmpty { s += "\n    in " + expression }
        // A runaway recursion has a trace of hundreds of calls: show both ends.
        let shown = trace.count > 10 ? Array(trace.prefix(6)) + ["... \(trace.count - 8) more ..."] + Array(trace.suffix(2)) : trace
        for t in shown { s += "\n    " + t }
        return s
    }
}
