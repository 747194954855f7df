/// Per-layer times at every sparsity level on one engine, plus the dense end-to-end time
/// (`base`) and the time of everything that is not a listed layer (`overhead`).
///
/// The timing model predicts a profile's time as `overhead + Σ_l t_l(level_l)`.
/// A table is validated whenever it is created or loaded: every layer lists the dense level and
/// only positive, finite times; unavailable levels (`nil`) come only from an explicit repair,
/// recorded in ``repairs``. The on-disk JSON form is documented in docs/formats-timing-profile.md.
public struct TimingTable: Hashable, Sendable, Codable {
    /// The JSON format version this code writes and reads.
    public static let currentFormatVersion = 1

    /// The JSON format version of this table.
    public var formatVersion: Int
    /// The engine the times were measured on (e.g. `deepsparse`, `spdy-engine`).
    public var engine: String
    /// The batch size of the measurements, if recorded.
    public var batch: Int?
    /// The number of threads of the measurements, if recorded.
    public var threads: Int?
    /// A description of the machine, if recorded.
    public var machine: String?
    /// The sparsity grid the per-layer levels refer to.
    public var grid: SparsityGrid
    /// The dense end-to-end time in seconds.
    public var baseSeconds: Double
    /// The time of everything that is not a listed layer, in seconds.
    public var overheadSeconds: Double
    /// The spread of the `base` measurement in seconds, if recorded.
    public var baseSpread: Double?
    /// The prunable layers, in model order.
    public var layers: [LayerTiming]
    /// Where the table came from (e.g. the reference file name), if known.
    public var source: String?
    /// The repairs applied when loading a defective table; empty for a clean table.
    public var repairs: [TimingTableRepair]

    /// Creates and validates a table.
    public init(engine: String, batch: Int? = nil, threads: Int? = nil, machine: String? = nil,
                grid: SparsityGrid, baseSeconds: Double, overheadSeconds: Double, baseSpread: Double? = nil,
                layers: [LayerTiming], source: String? = nil,
                repairs: [TimingTableRepair] = []) throws(TimingTableError)
    {
        formatVersion = Self.currentFormatVersion
        self.engine = engine
        self.batch = batch
        self.threads = threads
        self.machine = machine
        self.grid = grid
        self.baseSeconds = baseSeconds
        self.overheadSeconds = overheadSeconds
        self.baseSpread = baseSpread
        self.layers = layers
        self.source = source
        self.repairs = repairs
        let issues = validationIssues(file: source)
        if !issues.isEmpty { throw TimingTableError(issues: issues) }
    }

    /// The index of the layer named `layer` in ``layers``.
    public func index(of layer: LayerID) -> Int? { layers.firstIndex { $0.layer == layer } }

    /// The sum of the layers' dense times.
    public var prunableSeconds: Double { layers.reduce(0) { $0 + $1.denseSeconds } }

    /// The predicted dense time: `overhead + Σ dense` (equals `base` up to printing rounding).
    public var denseSeconds: Double { overheadSeconds + prunableSeconds }

    /// The predicted time of the model with `levels[l]` for layer `l` (table order), or `nil` if
    /// a level is unavailable for its layer.
    public func predictedSeconds(levels: [SparsityLevel]) -> Double? {
        precondition(levels.count == layers.count, "one level per layer of the table")
        var total = overheadSeconds
        for (timing, level) in zip(layers, levels) {
            guard let seconds = timing.seconds(at: level) else { return nil }
            total += seconds
        }
        return total
    }

    /// The predicted speedup `base / predicted time` of `levels`, or `nil` if a level is unavailable.
    public func predictedSpeedup(levels: [SparsityLevel]) -> Double? {
        predictedSeconds(levels: levels).map { baseSeconds / $0 }
    }

    /// Every problem of this table; empty when valid.
    public func validationIssues(file: String? = nil) -> [TimingTableIssue] {
        var issues: [TimingTableIssue] = []
        func add(_ layer: LayerID?, _ kind: TimingTableIssue.Kind) {
            issues.append(TimingTableIssue(file: file, layer: layer, kind: kind))
        }
        if formatVersion != Self.currentFormatVersion { add(nil, .unsupportedFormatVersion(formatVersion)) }
        if !(baseSeconds.isFinite && baseSeconds > 0) { add(nil, .invalidBase(baseSeconds)) }
        if !(overheadSeconds.isFinite && overheadSeconds >= 0) { add(nil, .invalidOverhead(overheadSeconds)) }
        if layers.isEmpty { add(nil, .noLayers) }
        var seen: Set<LayerID> = []
        for timing in layers {
            if !seen.insert(timing.layer).inserted { add(timing.layer, .duplicatedLayer(firstLine: nil)) }
            if timing.levels.count != grid.count {
                add(timing.layer, .levelCountMismatch(found: timing.levels.count, expected: grid.count))
            }
            if timing.levels.first.flatMap({ $0 }) == nil { add(timing.layer, .missingDense) }
            for level in timing.levels.compactMap({ $0 }) {
                if !(level.seconds.isFinite && level.seconds > 0) { add(timing.layer, .nonPositiveTime(level.seconds)) }
            }
        }
        return issues
    }

    private enum CodingKeys: String, CodingKey {
        case formatVersion, engine, batch, threads, machine, grid, baseSeconds, overheadSeconds, baseSpread
        case layers, source, repairs
    }

    /// Decodes a table and validates it (throws `DecodingError` for structural problems and
    /// ``TimingTableError`` for semantic ones; use ``TimingTable/decodeJSON(_:file:)`` for one typed error).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let version = try container.decode(Int.self, forKey: .formatVersion)
        guard version == Self.currentFormatVersion else {
            throw TimingTableError(issues: [TimingTableIssue(kind: .unsupportedFormatVersion(version))])
        }
        try self.init(
            engine: container.decode(String.self, forKey: .engine),
            batch: container.decodeIfPresent(Int.self, forKey: .batch),
            threads: container.decodeIfPresent(Int.self, forKey: .threads),
            machine: container.decodeIfPresent(String.self, forKey: .machine),
            grid: container.decode(SparsityGrid.self, forKey: .grid),
            baseSeconds: container.decode(Double.self, forKey: .baseSeconds),
            overheadSeconds: container.decode(Double.self, forKey: .overheadSeconds),
            baseSpread: container.decodeIfPresent(Double.self, forKey: .baseSpread),
            layers: container.decode([LayerTiming].self, forKey: .layers),
            source: container.decodeIfPresent(String.self, forKey: .source),
            repairs: container.decodeIfPresent([TimingTableRepair].self, forKey: .repairs) ?? [])
    }
}
