import Yams

/// The bound on what YAML aliases and merge keys may expand a scenario to.
///
/// An alias (`*name`) stands for the whole anchored node, so a chain of anchors that each
/// use the previous one twice (`t2: {<<: [*t1, *t1]}`) doubles at every line: 22 lines
/// describe four million nodes (the "billion laughs" pattern). The composed tree shares
/// them, but anything that walks it (the schema check, merge-key resolution, the decoder)
/// pays for every one. A scenario may expand to at most `maxNodes` nodes and `maxDepth`
/// levels (libyaml's own nesting limit for written text); beyond that the loader refuses it
/// with the line of the merge key or alias being expanded, before anything walks the tree.
public enum YAMLExpansion {
    /// Most nodes (scalars, lists, tables; keys included) the expanded scenario may have.
    /// A scenario with 150 guests written out one by one has a few thousand.
    public static let maxNodes = 100_000
    /// Deepest nesting the expanded scenario may have.
    public static let maxDepth = 1_000

    /// Where and why `root` expands beyond the bounds, or nil when it stays within them.
    /// Costs at most `maxNodes` steps (the walk stops at the bound).
    public static func excess(_ root: Node) -> (mark: Mark?, message: String)? {
        struct Frame { var node: Node; var depth: Int; var keyMark: Mark?; var mergeMark: Mark? }
        var stack = [Frame(node: root, depth: 1, keyMark: nil, mergeMark: nil)]
        var count = 0
        while let f = stack.popLast() {
            count += 1
            let overNodes = count > maxNodes, overDepth = f.depth > maxDepth
            if overNodes || overDepth {
                let what = overNodes ? "more than \(maxNodes) YAML nodes" : "more than \(maxDepth) levels of nesting"
                return (
                    f.mergeMark ?? f.keyMark ?? root.mark,
                    "the scenario expands to \(what), counting every use of an alias or merge key "
                        + "(the limit keeps validation fast); a chain of templates that each use the previous one twice "
                        + "doubles at every step: merge each template once, or write the tables out"
                )
            }
            switch f.node {
            case .mapping(let m):
                for (k, v) in m.reversed() {
                    let isMerge = k.scalar?.string == "<<"
                    let merge = f.mergeMark ?? (isMerge ? k.mark : nil)
                    stack.append(Frame(node: v, depth: f.depth + 1, keyMark: k.mark ?? f.keyMark, mergeMark: merge))
                    stack.append(Frame(node: k, depth: f.depth + 1, keyMark: k.mark ?? f.keyMark, mergeMark: f.mergeMark))
                }
            case .sequence(let s):
                for item in s.reversed() {
                    stack.append(Frame(node: item, depth: f.depth + 1, keyMark: f.keyMark, mergeMark: f.mergeMark))
                }
            case .scalar, .alias:
                break
            }
        }
        return nil
    }
}
