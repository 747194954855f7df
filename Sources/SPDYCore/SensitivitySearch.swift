/// Algorithm 4: the search for per-layer sensitivity coefficients `c ∈ [0,1]^L` whose DP profile
/// (costs `e_l^s = c_l · (s/(n−1))²`) has the least loss according to a ``LossOracle``.
///
/// 1. `initialCandidates` random vectors `c ~ U(0,1)^L`; keep the best.
/// 2. Local search with `k = round(0.1·L)` down to 1: copy the best `c`, resample `k` coordinates
///    (indices drawn with replacement, as the reference), accept a strict improvement; after
///    `patience` consecutive failures decrease `k`; stop when `k = 1` has failed `patience` times.
///
/// All randomness comes from one seeded ``SplitMix64``. Identical profiles are evaluated once
/// (memoised). Progress is reported after every candidate; an optional budget caps oracle
/// evaluations; the ``SearchState`` can be saved at any point and resumed with the same result.
/// Candidates are evaluated one at a time, in order, so a seed fixes the result.
public struct SensitivitySearch {
    /// The parameters of a search.
    public struct Configuration: Hashable, Sendable, Codable {
        /// The seed of the generator.
        public var seed: UInt64
        /// The number of random candidates of phase 1 (reference: 100).
        public var initialCandidates: Int
        /// Consecutive failures before `k` decreases (reference: 100).
        public var patience: Int
        /// The first `k` of the local search; `nil` means `round(0.1·L)`, at least 1.
        public var initialK: Int?
        /// The largest number of oracle evaluations of the whole search; `nil` for no limit.
        public var evaluationBudget: Int?

        /// Creates a configuration with the reference's defaults.
        public init(seed: UInt64, initialCandidates: Int = 100, patience: Int = 100, initialK: Int? = nil,
                    evaluationBudget: Int? = nil)
        {
            precondition(initialCandidates >= 1 && patience >= 1, "at least one candidate and one try per k")
            self.seed = seed
            self.initialCandidates = initialCandidates
            self.patience = patience
            self.initialK = initialK
            self.evaluationBudget = evaluationBudget
        }
    }

    /// Counters of a search.
    public struct Statistics: Hashable, Sendable, Codable {
        /// Candidates generated and scored (oracle calls plus memo hits).
        public var candidates = 0
        /// Calls to the oracle.
        public var oracleEvaluations = 0
        /// Candidates whose profile had been evaluated before.
        public var memoHits = 0
        /// Strict improvements accepted (the first candidate included).
        public var improvements = 0

        /// Creates zeroed counters.
        public init() {}
    }

    /// What the progress callback sees after every candidate.
    public struct Progress: Hashable, Sendable {
        /// The phase after the candidate.
        public var phase: SearchState.Phase
        /// The counters.
        public var statistics: Statistics
        /// The best loss so far.
        public var bestLoss: Double?
        /// Whether this candidate improved the best loss.
        public var improved: Bool
    }

    /// The end of a call to ``run(oracle:resuming:evaluationLimit:progress:)``.
    public struct Outcome: Sendable {
        /// The state to save or resume from.
        public var state: SearchState
        /// The best profile so far (loss, predicted speedup and seed filled in), if any.
        public var best: Profile?
        /// Whether the search finished (otherwise a budget or limit stopped it).
        public var isFinished: Bool { state.isFinished }
    }

    /// The problem (table, target, exclusions, buckets) the search solves.
    public let problem: SolverProblem
    /// The configuration.
    public let configuration: Configuration
    private let solver: DPSolver

    /// Creates a search over `problem`.
    public init(problem: SolverProblem, configuration: Configuration) {
        self.problem = problem
        self.configuration = configuration
        solver = DPSolver(problem: problem)
    }

    /// The state of a search that has not started.
    public func initialState() -> SearchState {
        SearchState(configuration: configuration, layers: problem.searchedLayerIDs,
                    targetSpeedup: problem.budget.targetSpeedup, generator: SplitMix64(seed: configuration.seed),
                    phase: .random(completed: 0), bestCoefficients: nil, bestLoss: nil, bestLevels: nil,
                    statistics: Statistics(), memo: [])
    }

    /// The first `k` of the local search.
    public var firstK: Int {
        let layerCount = problem.layerCount
        let k = configuration.initialK ?? Int((0.1 * Double(layerCount)).rounded())
        return min(max(k, 1), layerCount)
    }

    /// Runs (or resumes) the search until it finishes, the evaluation budget is spent, or this call
    /// has made `evaluationLimit` oracle calls.
    ///
    /// - Parameters:
    ///   - oracle: Scores profiles.
    ///   - resuming: A saved state to continue from; `nil` starts afresh.
    ///   - evaluationLimit: The most oracle calls this call may make (`nil`: no per-call limit).
    ///   - progress: Called after every candidate.
    public func run(oracle: some LossOracle, resuming: SearchState? = nil, evaluationLimit: Int? = nil,
                    progress: (Progress) -> Void = { _ in }) throws(SearchError) -> Outcome
    {
        var state = resuming ?? initialState()
        guard state.layers == problem.searchedLayerIDs else {
            throw .stateMismatch("searched layers differ")
        }
        guard state.targetSpeedup == problem.budget.targetSpeedup else {
            throw .stateMismatch("target \(state.targetSpeedup)× ≠ \(problem.budget.targetSpeedup)×")
        }
        guard state.configuration == configuration else { throw .stateMismatch("configuration differs") }
        var memo: [[UInt8]: Double] = [:]
        for entry in state.memo { memo[entry.levels] = entry.loss }
        let layerCount = problem.layerCount
        var coefficients = [Double](repeating: 0, count: layerCount)
        var costs: [Double] = []
        var levels = [SparsityLevel](repeating: .dense, count: problem.table.layers.count)
        var key = [UInt8](repeating: 0, count: layerCount)
        let callStart = state.statistics.oracleEvaluations

        while true {
            // Decide what the next candidate is, on a copy of the generator, so that stopping
            // before it leaves the state exactly at a candidate boundary.
            var generator = state.generator
            var nextPhase: SearchState.Phase
            switch state.phase {
            case .finished:
                return Outcome(state: state, best: bestProfile(state))
            case let .random(completed):
                if completed >= configuration.initialCandidates {
                    state.phase = .local(k: firstK, failures: 0)
                    continue
                }
                for l in 0..<layerCount { coefficients[l] = generator.nextUnitDouble() }
                nextPhase = .random(completed: completed + 1)
            case let .local(k, failures):
                if failures >= configuration.patience {
                    state.phase = k > 1 ? .local(k: k - 1, failures: 0) : .finished
                    continue
                }
                guard let best = state.bestCoefficients else {
                    state.phase = .finished
                    continue
                }
                for l in 0..<layerCount { coefficients[l] = best[l] }
                for _ in 0..<k {
                    let index = generator.nextIndex(below: layerCount)
                    coefficients[index] = generator.nextUnitDouble()
                }
                nextPhase = .local(k: k, failures: failures + 1)
            }
            problem.fillCosts(coefficients: coefficients, into: &costs)
            do { try solver.solve(costs: costs, into: &levels) } catch {
                preconditionFailure("SPDY costs are finite, so the DP always finds a profile")
            }
            for (l, index) in problem.budget.searchedLayers.enumerated() { key[l] = UInt8(levels[index].index) }
            let loss: Double
            if let known = memo[key] {
                loss = known
                state.statistics.memoHits += 1
            } else {
                let spent = state.statistics.oracleEvaluations
                if let budget = configuration.evaluationBudget, spent >= budget {
                    state.phase = .finished
                    return Outcome(state: state, best: bestProfile(state))
                }
                if let evaluationLimit, spent - callStart >= evaluationLimit {
                    return Outcome(state: state, best: bestProfile(state))
                }
                do { loss = try oracle.loss(of: Profile(table: problem.table, levels: levels, method: "spdy-candidate",
                                                        targetSpeedup: problem.budget.targetSpeedup)) } catch {
                    throw .oracleFailed(message: "\(error)", state: state)
                }
                memo[key] = loss
                state.memo.append(SearchState.MemoEntry(levels: key, loss: loss))
                state.statistics.oracleEvaluations += 1
            }
            state.statistics.candidates += 1
            state.generator = generator
            let improved = !loss.isNaN && (state.bestLoss.map { loss < $0 } ?? true)
            if improved {
                state.bestLoss = loss
                state.bestCoefficients = coefficients
                state.bestLevels = levels
                state.statistics.improvements += 1
                if case let .local(k, _) = nextPhase { nextPhase = .local(k: k, failures: 0) }
            }
            state.phase = nextPhase
            progress(Progress(phase: state.phase, statistics: state.statistics, bestLoss: state.bestLoss,
                              improved: improved))
        }
    }

    /// The best profile of `state`, with loss, predicted speedup and seed.
    private func bestProfile(_ state: SearchState) -> Profile? {
        guard let levels = state.bestLevels, let loss = state.bestLoss else { return nil }
        return Profile(table: problem.table, levels: levels, method: "spdy", targetSpeedup: problem.budget.targetSpeedup,
                       loss: loss, seed: configuration.seed)
    }
}
