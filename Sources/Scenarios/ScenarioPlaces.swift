import Yams

/// Places in a scenario's text for problems found after it loaded: a trace file that cannot
/// be read, a workload that cannot be built (its `data_file` is not in the guest's image).
/// Such a problem is reported like a loader problem, `file:line:column: key.path: message`.
public enum ScenarioPlaces {
    /// A `ScenarioError` at the place of `keyPath` (`guests[1].workloads[0].file`) in `text`:
    /// the value's line, or the nearest key written above it (a default, or a key reached
    /// through a merge key).
    public static func error(file: String, text: String, keyPath: String, message: String) -> ScenarioError {
        let root = (try? Yams.compose(yaml: text)) ?? nil
        let mark = root.flatMap { NodePath.mark(of: keyPath, in: $0) }
        return ScenarioError(file: file, line: mark?.line, column: mark?.column, keyPath: keyPath, message: message)
    }
}
