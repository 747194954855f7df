import Foundation

/// A sparsity profile: the level of every prunable layer, with what is known about it
/// (predicted and measured speedup, calibration loss, how it was found).
///
/// Stored as versioned JSON (docs/formats-timing-profile.md) or in the reference's text form,
/// one `<sparsity> <layer>` line per layer.
public struct Profile: Hashable, Sendable, Codable {
    /// The JSON format version this code writes and reads.
    public static let currentFormatVersion = 1

    /// One layer's level.
    public struct Entry: Hashable, Sendable, Codable {
        /// The layer.
        public var layer: LayerID
        /// Its level in the profile's grid.
        public var level: SparsityLevel
        /// The level's sparsity (redundant with `level`, kept for readers of the file).
        public var sparsity: Double

        /// Creates an entry.
        public init(layer: LayerID, level: SparsityLevel, sparsity: Double) {
            self.layer = layer
            self.level = level
            self.sparsity = sparsity
        }
    }

    /// The JSON format version.
    public var formatVersion: Int
    /// The grid the levels refer to.
    public var grid: SparsityGrid
    /// The layers and their levels, in model order.
    public var layers: [Entry]
    /// How the profile was found (`spdy`, `dp-prior`, `uniform`, `global-magnitude`, …), if known.
    public var method: String?
    /// The speedup the profile was asked to meet, if any.
    public var targetSpeedup: Double?
    /// The speedup predicted by the timing model, if computed.
    public var predictedSpeedup: Double?
    /// The speedup measured end to end on the engine, if measured.
    public var measuredSpeedup: Double?
    /// The calibration loss, if evaluated.
    public var loss: Double?
    /// The seed of the search that produced the profile, if any.
    public var seed: UInt64?

    /// Creates a profile from layers and their levels on `grid`.
    public init(grid: SparsityGrid, levels: [(layer: LayerID, level: SparsityLevel)], method: String? = nil,
                targetSpeedup: Double? = nil, predictedSpeedup: Double? = nil, measuredSpeedup: Double? = nil,
                loss: Double? = nil, seed: UInt64? = nil)
    {
        formatVersion = Self.currentFormatVersion
        self.grid = grid
        layers = levels.map { Entry(layer: $0.layer, level: $0.level, sparsity: grid[$0.level]) }
        self.method = method
        self.targetSpeedup = targetSpeedup
        self.predictedSpeedup = predictedSpeedup
        self.measuredSpeedup = measuredSpeedup
        self.loss = loss
        self.seed = seed
    }

    /// Creates the profile assigning `levels[l]` to layer `l` of `table`, with its predicted speedup.
    public init(table: TimingTable, levels: [SparsityLevel], method: String? = nil, targetSpeedup: Double? = nil,
                loss: Double? = nil, seed: UInt64? = nil)
    {
        precondition(levels.count == table.layers.count, "one level per table layer")
        self.init(grid: table.grid, levels: zip(table.layers, levels).map { ($0.layer, $1) }, method: method,
                  targetSpeedup: targetSpeedup, predictedSpeedup: table.predictedSpeedup(levels: levels),
                  loss: loss, seed: seed)
    }

    /// The level of `layer`, if the profile lists it.
    public subscript(layer: LayerID) -> SparsityLevel? { layers.first { $0.layer == layer }?.level }

    /// The levels in `table`'s layer order; layers the profile does not list are an error.
    public func levels(for table: TimingTable) throws(ProfileError) -> [SparsityLevel] {
        guard grid == table.grid else { throw ProfileError(issues: [.init(kind: .gridMismatch)]) }
        var byLayer: [LayerID: SparsityLevel] = [:]
        for entry in layers { byLayer[entry.layer] = entry.level }
        var missing: [ProfileError.Issue] = []
        let levels = table.layers.map { timing -> SparsityLevel in
            guard let level = byLayer[timing.layer] else {
                missing.append(.init(layer: timing.layer, kind: .layerMissing))
                return .dense
            }
            return level
        }
        guard missing.isEmpty else { throw ProfileError(issues: missing) }
        return levels
    }

    /// The reference text form: one `<sparsity, 4 decimals> <layer>` line per layer.
    public func referenceText() -> String {
        layers.map { "\(format4($0.sparsity)) \($0.layer)\n" }.joined()
    }

    /// Reads the reference text form, mapping each sparsity to a level of `grid`.
    public static func parseReferenceText(_ text: String, grid: SparsityGrid = .standard,
                                          file: String? = nil) throws(ProfileError) -> Profile
    {
        var levels: [(layer: LayerID, level: SparsityLevel)] = []
        var firstLine: [LayerID: Int] = [:]
        var issues: [ProfileError.Issue] = []
        var number = 0
        text.enumerateLines { line, _ in
            number += 1
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard !tokens.isEmpty else { return }
            guard tokens.count == 2 else {
                issues.append(.init(file: file, line: number, kind: .malformedLine(String(line))))
                return
            }
            let layer = LayerID(String(tokens[1]))
            guard let sparsity = Double(tokens[0]), sparsity.isFinite else {
                issues.append(.init(file: file, line: number, layer: layer, kind: .malformedLine(String(line))))
                return
            }
            guard let level = grid.level(matching: sparsity) else {
                issues.append(.init(file: file, line: number, layer: layer, kind: .levelNotOnGrid(sparsity)))
                return
            }
            if let first = firstLine[layer] {
                issues.append(.init(file: file, line: number, layer: layer, kind: .duplicatedLayer(firstLine: first)))
                return
            }
            firstLine[layer] = number
            levels.append((layer, level))
        }
        guard issues.isEmpty else { throw ProfileError(issues: issues) }
        return Profile(grid: grid, levels: levels)
    }

    /// Encodes the profile as pretty-printed JSON with sorted keys.
    public func encodeJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { return try encoder.encode(self) } catch {
            preconditionFailure("a profile always encodes: \(error)")
        }
    }

    /// Decodes and validates a JSON profile (version, levels on the grid, sparsities consistent).
    public static func decodeJSON(_ data: Data, file: String? = nil) throws(ProfileError) -> Profile {
        let profile: Profile
        do { profile = try JSONDecoder().decode(Profile.self, from: data) } catch let error as DecodingError {
            throw ProfileError(issues: [.init(file: file, kind: .invalidJSON(error.readableDescription))])
        } catch {
            throw ProfileError(issues: [.init(file: file, kind: .invalidJSON("\(error)"))])
        }
        var issues: [ProfileError.Issue] = []
        if profile.formatVersion != currentFormatVersion {
            issues.append(.init(file: file, kind: .unsupportedFormatVersion(profile.formatVersion)))
        }
        var seen: Set<LayerID> = []
        for entry in profile.layers {
            if !seen.insert(entry.layer).inserted {
                issues.append(.init(file: file, layer: entry.layer, kind: .duplicatedLayer(firstLine: nil)))
            }
            if !profile.grid.contains(entry.level) {
                issues.append(.init(file: file, layer: entry.layer, kind: .levelNotOnGrid(entry.sparsity)))
            } else if abs(profile.grid[entry.level] - entry.sparsity) > 0.5e-4 + 1e-9 {
                issues.append(.init(file: file, layer: entry.layer,
                                    kind: .sparsityMismatch(level: entry.level, sparsity: entry.sparsity)))
            }
        }
        guard issues.isEmpty else { throw ProfileError(issues: issues) }
        return profile
    }
}
