import OvercommitSupport

/// "Did you mean" suggestions by edit distance.

enum Suggestions {
    /// The closest candidate to `word`, if close enough to be a likely typo. A candidate
    /// with a dotted prefix (`vm.swappiness`) also matches on its last part, so
    /// `swapiness` suggests `vm.swappiness`. Ties go to the earlier candidate. Failing a
    /// close spelling, a candidate that starts with the word (or the word with it) is taken.
    static func closest(to word: String, in candidates: [String]) -> String? {
        guard !word.isEmpty else { return nil }
        let limit = max(1, min(3, word.count / 3))
        var best: (name: String, d: Int)? = nil
        for c in candidates where c != word {
            var d = EditDistance.osa(word, c)
            if let dot = c.lastIndex(of: ".") {
                let tail = String(c[c.index(after: dot)...])
                if !tail.isEmpty { d = min(d, EditDistance.osa(word, tail)) }
            }
            if d <= limit, best == nil || d < best!.d { best = (c, d) }
        }
        if let best, best.d < 2 { return best.name }
        // A shortened or lengthened name: `zipf` for `zipf_exponent`, `memory_size` for `memory`.
        // It names its key more surely than a key two or three edits away (`kswapd` is
        // `kswapd_interval`, not `zswap`).
        let w = word.lowercased()
        guard w.count >= 3 else { return best?.name }
        for c in candidates {
            let full = c.lowercased()
            let tail = full.lastIndex(of: ".").map { String(full[full.index(after: $0)...]) } ?? full
            if full.hasPrefix(w) || tail.hasPrefix(w) || (tail.count >= 3 && w.hasPrefix(tail)) { return c }
        }
        return best?.name
    }

    /// `; did you mean 'x'?` or the empty string.
    static func didYouMean(_ word: String, _ candidates: [String]) -> String {
        closest(to: word, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }
}
