import Foundation

/// The sparsity levels a layer may be pruned to: dense, then `steps + 1` levels from `minimum` to
/// `maximum` in equal *relative* steps (each step removes the same fraction of the remaining
/// weights): `1 − (1 − minimum)·δ^i`, `δ = ((1 − maximum)/(1 − minimum))^(1/steps)`, `i = 0…steps`.
///
/// The default (``standard``) is SPDY's grid: 0 and 40% → 99% in 40 steps, 42 levels.
/// Levels are addressed by ``SparsityLevel`` (grid index), never by formatted strings.
public struct SparsityGrid: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The smallest non-zero sparsity (level 1).
    public let minimum: Double
    /// The largest sparsity (the last level).
    public let maximum: Double
    /// The number of equal relative steps between `minimum` and `maximum`.
    public let steps: Int
    /// The sparsity of every level, by index; `sparsities[0] == 0`.
    public let sparsities: [Double]

    /// Errors for grid parameters that do not describe a grid.
    public enum ParameterError: Error, Equatable, CustomStringConvertible {
        /// Requires `0 < minimum ≤ maximum < 1`, `steps ≥ 1` (or `steps == 0` with
        /// `minimum == maximum`) and at most 255 levels.
        case invalid(minimum: Double, maximum: Double, steps: Int)

        /// A readable explanation.
        public var description: String {
            switch self {
            case let .invalid(minimum, maximum, steps):
                return "invalid sparsity grid (minimum \(minimum), maximum \(maximum), steps \(steps)): "
                    + "need 0 < minimum < maximum < 1, 1 ≤ steps ≤ 253 (or steps 0 with minimum = maximum)"
            }
        }
    }

    /// Creates the grid with the given bounds and number of steps; throws for impossible bounds.
    public init(minimum: Double, maximum: Double, steps: Int) throws(ParameterError) {
        let valid = minimum.isFinite && maximum.isFinite && minimum > 0 && maximum < 1
            && (steps >= 1 ? minimum < maximum : steps == 0 && minimum == maximum)
            && steps + 2 <= 255
        guard valid else { throw .invalid(minimum: minimum, maximum: maximum, steps: steps) }
        self.minimum = minimum
        self.maximum = maximum
        self.steps = steps
        var values: [Double] = [0]
        if steps == 0 {
            values.append(minimum)
        } else {
            let delta = Foundation.pow((1 - maximum) / (1 - minimum), 1 / Double(steps))
            for i in 0...steps {
                values.append(i == steps ? maximum : 1 - (1 - minimum) * Foundation.pow(delta, Double(i)))
            }
        }
        sparsities = values
    }

    /// SPDY's default grid: 0 and 40% → 99% in 40 equal relative steps (42 levels).
    public static let standard: SparsityGrid = {
        do { return try SparsityGrid(minimum: 0.4, maximum: 0.99, steps: 40) } catch {
            preconditionFailure("the standard grid parameters are valid")
        }
    }()

    /// The number of levels, dense included.
    public var count: Int { sparsities.count }

    /// Every level of the grid, dense first.
    public var levels: [SparsityLevel] { (0..<count).map(SparsityLevel.init) }

    /// The sparsest level.
    public var sparsest: SparsityLevel { SparsityLevel(count - 1) }

    /// The sparsity of `level` (a fraction in [0, 1)).
    public subscript(level: SparsityLevel) -> Double {
        precondition(level.index < count, "level \(level) is not on a grid of \(count) levels")
        return sparsities[level.index]
    }

    /// Whether `level` belongs to this grid.
    public func contains(_ level: SparsityLevel) -> Bool { level.index < count }

    /// The level whose sparsity is within `tolerance` of `sparsity`, if any (the closest one).
    ///
    /// The default tolerance accepts sparsities printed with 4 decimals.
    public func level(matching sparsity: Double, tolerance: Double = 0.5e-4 + 1e-9) -> SparsityLevel? {
        guard sparsity.isFinite else { return nil }
        var best: (index: Int, distance: Double)?
        for (index, value) in sparsities.enumerated() {
            let distance = abs(value - sparsity)
            if distance <= tolerance, distance < (best?.distance ?? .infinity) { best = (index, distance) }
        }
        return best.map { SparsityLevel($0.index) }
    }

    /// `grid 0 ∪ [0.4000 → 0.9900, 40 steps] (42 levels)`.
    public var description: String {
        "grid 0 ∪ [\(String(format: "%.4f", minimum)) → \(String(format: "%.4f", maximum)), "
            + "\(steps) steps] (\(count) levels)"
    }

    private enum CodingKeys: String, CodingKey { case minimum, maximum, steps }

    /// Decodes `{minimum, maximum, steps}` and validates the parameters.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let minimum = try container.decode(Double.self, forKey: .minimum)
        let maximum = try container.decode(Double.self, forKey: .maximum)
        let steps = try container.decode(Int.self, forKey: .steps)
        do { self = try SparsityGrid(minimum: minimum, maximum: maximum, steps: steps) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: error.description))
        }
    }

    /// Encodes the parameters `{minimum, maximum, steps}`; the levels follow from them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(minimum, forKey: .minimum)
        try container.encode(maximum, forKey: .maximum)
        try container.encode(steps, forKey: .steps)
    }
}
