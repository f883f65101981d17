import OvercommitSupport

/// What the share-based allocation reads about one VM, in 4 KiB pages.
public struct AllocationVM: Sendable, Equatable {
    /// The VM's shares (see `SharesSetting`).
    public var shares: Double
    /// Machine pages the VM holds now (P).
    public var allocatedPages: Int
    /// Estimated fraction of its pages in active use (f, 0...1).
    public var activeFraction: Double
    /// Pages never reclaimed (ESX reservation, "min").
    public var reservationPages: Int
    /// Pages it may hold at most (ESX limit, "max"); `Int.max` when unlimited.
    public var limitPages: Int

    public init(
        shares: Double, allocatedPages: Int, activeFraction: Double = 1,
        reservationPages: Int = 0, limitPages: Int = .max
    ) {
        self.shares = shares; self.allocatedPages = allocatedPages; self.activeFraction = activeFraction
        self.reservationPages = reservationPages; self.limitPages = limitPages
    }
}

/// Share-based memory allocation with the idle memory tax, after Waldspurger, "Memory
/// Resource Management in VMware ESX Server" (OSDI 2002), sections 5.1–5.3.
///
/// Memory is reclaimed from the VM with the fewest adjusted shares per page
/// rho = S / (P · (f + k · (1 − f))), k = 1 / (1 − tau): idle pages cost k times active ones,
/// so with the default tax tau = 0.75 an idle page "costs" four active pages. Reservations
/// (min) are never reclaimed; memory above a limit (max) is always reclaimed, even when the
/// host has free memory, as ESX balloons a VM whose limit is below its configured memory.
public enum ShareAllocation {
    /// ESX's default idle memory tax (Mem.IdleTax = 75 %, as in the paper).
    public static let defaultTax = 0.75
    /// The largest tax used: tau → 1 would make an idle page infinitely expensive
    /// (k = 1/(1−tau)); taxes above 0.99 are read as 0.99 (k = 100).
    public static let maximumTax = 0.99

    /// k = 1 / (1 − tau), tau clamped to 0...`maximumTax`.
    public static func idleCost(tau: Double) -> Double {
        let t = tau.isNaN ? 0 : min(max(tau, 0), maximumTax)
        return 1 / (1 - t)
    }

    /// rho = S / (P · (f + k · (1 − f))); +infinity when P is 0 (nothing to take), f clamped to 0...1.
    public static func adjustedSharesPerPage(shares: Double, pages: Int, activeFraction: Double, tau: Double) -> Double {
        guard pages > 0 else { return .infinity }
        return costWeight(shares: shares, activeFraction: activeFraction, tau: tau) / Double(pages)
    }

    /// S / (f + k · (1 − f)): rho times P.
    static func costWeight(shares: Double, activeFraction f: Double, tau: Double) -> Double {
        let a = f.isNaN ? 1 : min(max(f, 0), 1)
        return max(0, shares) / (a + idleCost(tau: tau) * (1 - a))
    }

    /// Pages to reclaim from each VM (same order as `vms`).
    ///
    /// Each VM above its limit first gives back `allocated − limit`, which counts toward
    /// `pagesToReclaim`. The rest is taken from the VM with the lowest rho, recomputed as its
    /// P shrinks (ties to the lowest index), never below a reservation. The result is the exact
    /// water-filling solution of that greedy process: every VM that gives pages ends at the same
    /// rho, within one page. Sum = limit excess + min(rest of the request, pages above reservations).
    public static func reclaimTargets(_ vms: [AllocationVM], pagesToReclaim: Int, tau: Double = defaultTax) -> [Int] {
        var take = vms.map { max(0, $0.allocatedPages - max(0, $0.limitPages)) }
        var remaining = max(0, pagesToReclaim - take.reduce(0, +))
        let pages = vms.indices.map { max(0, vms[$0].allocatedPages - take[$0]) }
        let floors = vms.indices.map { min(pages[$0], max(0, vms[$0].reservationPages)) }
        let weights = vms.map { costWeight(shares: $0.shares, activeFraction: $0.activeFraction, tau: tau) }
        let spare = vms.indices.map { pages[$0] - floors[$0] }
        guard remaining > 0 else { return take }
        if remaining >= spare.reduce(0, +) {
            for i in vms.indices { take[i] += spare[i] }
            return take
        }
        // VMs without shares have rho = 0: drained first, in index order.
        for i in vms.indices where weights[i] == 0 && remaining > 0 {
            let n = min(spare[i], remaining)
            take[i] += n; remaining -= n
        }
        let live = vms.indices.filter { weights[$0] > 0 && spare[$0] > 0 }
        guard remaining > 0, !live.isEmpty else { return take }

        // Water level mu = P'/(rho·P) common to the VMs that give pages: P'_i = clamp(w_i·mu, floor_i, P_i).
        func taken(_ mu: Double) -> Double {
            live.reduce(0) { $0 + Double(pages[$1]) - min(Double(pages[$1]), max(Double(floors[$1]), weights[$1] * mu)) }
        }
        var lo = 0.0, hi = live.map { Double(pages[$0]) / weights[$0] }.max()!
        let want = Double(remaining)
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if mid <= lo || mid >= hi { break }
            if taken(mid) > want { lo = mid } else { hi = mid }
        }
        // At mu = hi at most `remaining` pages are taken; round down, then hand out the last
        // pages one at a time to the lowest rho, as the greedy process would.
        for i in live {
            let n = Int((Double(pages[i]) - min(Double(pages[i]), max(Double(floors[i]), weights[i] * hi))).rounded(.down))
            let m = min(n, spare[i], remaining)
            take[i] += m; remaining -= m
        }
        while remaining > 0 {
            var best = -1, bestRho = Double.infinity
            for i in live where pages[i] - take[i] > floors[i] {
                let rho = weights[i] / Double(pages[i] - take[i])
                if rho < bestRho { best = i; bestRho = rho }
            }
            if best < 0 { break }
            take[best] += 1; remaining -= 1
        }
        return take
    }
}

/// A VM's memory shares as ESX configures them: low, normal or high per MiB of configured
/// memory (5, 10, 20 shares per MiB), or a custom number.
///
/// Decodes from `"low"`, `"normal"`, `"high"` or an integer; encodes back the same way.
public enum SharesSetting: Codable, Sendable, Equatable, CustomStringConvertible {
    case low, normal, high
    case custom(Int)

    /// Shares for a VM with `configuredMiB` MiB of configured memory.
    public func shares(configuredMiB: Int) -> Double {
        switch self {
        case .low: 5 * Double(configuredMiB)
        case .normal: 10 * Double(configuredMiB)
        case .high: 20 * Double(configuredMiB)
        case .custom(let n): Double(n)
        }
    }

    public var description: String {
        switch self {
        case .low: "low"
        case .normal: "normal"
        case .high: "high"
        case .custom(let n): "\(n)"
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) {
            guard n >= 0 else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "shares cannot be negative; got \(n)") }
            self = .custom(n); return
        }
        let s = try c.decode(String.self)
        switch s {
        case "low": self = .low
        case "normal": self = .normal
        case "high": self = .high
        default:
            throw DecodingError.dataCorruptedError(
                in: c,
                debugDescription:
                    "'\(s)' is not a shares setting; allowed: low, normal, high (5, 10, 20 shares per MiB) or a number of shares")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if case .custom(let n) = self { try c.encode(n) } else { try c.encode(description) }
    }
}

extension SharesSetting: PlainParameterValue {
    public static var parameterKind: ParameterKind { .string }
    public var parameterText: String { description }
}
