import OvercommitSupport

/// "Did you mean" suggestions for misspelled names, fields and controls.
enum Suggest {
    /// The candidate closest to `word` if it is close enough to be a typo (ties: the first).
    static func closest(to word: String, in candidates: [String]) -> String? {
        guard !word.isEmpty else { return nil }
        let limit = max(1, min(3, word.count / 3))
        var best: (name: String, d: Int)? = nil
        for c in candidates where c != word {
            let d = EditDistance.osa(word, c)
            if d <= limit, best == nil || d < best!.d { best = (c, d) }
        }
        return best?.name
    }

    /// `; did you mean 'x'?` or the empty string.
    static func didYouMean(_ word: String, _ candidates: [String]) -> String {
        closest(to: word, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }
}
