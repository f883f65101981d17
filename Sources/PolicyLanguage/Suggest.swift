/// "Did you mean" suggestions for misspelled names, fields and controls.
enum Suggest {
    /// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions),
    /// case-insensitive.
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.lowercased()), y = Array(b.lowercased())
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                var v = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { v = min(v, d[i - 2][j - 2] + 1) }
                d[i][j] = v
            }
        }
        return d[x.count][y.count]
    }

    /// The candidate closest to `word` if it is close enough to be a typo (ties: the first).
    static func closest(to word: String, in candidates: [String]) -> String? {
        guard !word.isEmpty else { return nil }
        let limit = max(1, min(3, word.count / 3))
        var best: (name: String, d: Int)? = nil
        for c in candidates where c != word {
            let d = distance(word, c)
            if d <= limit, best == nil || d < best!.d { best = (c, d) }
        }
        return best?.name
    }

    /// `; did you mean 'x'?` or the empty string.
    static func didYouMean(_ word: String, _ candidates: [String]) -> String {
        closest(to: word, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }
}
