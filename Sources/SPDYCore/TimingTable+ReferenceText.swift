import Foundation

extension TimingTable {
    /// Reads a table in the reference implementation's text format (IST-DASLab/spdy `timings/`):
    ///
    ///     base
    ///     <dense end-to-end seconds>
    ///     prunable
    ///     <sum of the listed layers' dense seconds>
    ///     <layer name>
    ///     <seconds> <sparsity, 4 decimals>      (one line per level)
    ///     ...
    ///
    /// Every block is validated; all problems are reported together, each with file, line and
    /// layer. Defects that `policy` allows are repaired and recorded in ``repairs``.
    ///
    /// - Parameters:
    ///   - text: The file's contents.
    ///   - file: The file name used in messages.
    ///   - grid: The grid the levels must lie on; `nil` infers it: the standard grid if every
    ///     sparsity lies on it, otherwise the grid spanned by the smallest non-zero and the
    ///     largest sparsity with as many levels as most blocks list.
    ///   - policy: Which defects to repair instead of rejecting.
    ///   - engine: The engine name recorded in the table.
    public static func parseReferenceText(_ text: String, file: String? = nil, grid: SparsityGrid? = nil,
                                          policy: RepairPolicy = .strict,
                                          engine: String = "deepsparse") throws(TimingTableError) -> TimingTable
    {
        var parser = ReferenceTextParser(file: file)
        parser.parse(text)
        return try parser.table(grid: grid, policy: policy, engine: engine)
    }
}

/// One `<seconds> <sparsity>` line of a reference block.
private struct ReferenceEntry {
    var seconds: Double
    var sparsity: Double
    var line: Int
    var decimals: Int
}

/// One layer block of a reference file.
private struct ReferenceBlock {
    var layer: LayerID
    var line: Int
    var entries: [ReferenceEntry] = []
}

/// The line-level parser behind ``TimingTable/parseReferenceText(_:file:grid:policy:engine:)``.
private struct ReferenceTextParser {
    let file: String?
    var issues: [TimingTableIssue] = []
    var base: Double?
    var prunable: Double?
    var blocks: [ReferenceBlock] = []

    init(file: String?) { self.file = file }

    mutating func issue(_ line: Int?, _ layer: LayerID?, _ kind: TimingTableIssue.Kind) {
        issues.append(TimingTableIssue(file: file, line: line, layer: layer, kind: kind))
    }

    static func number(_ token: Substring) -> Double? {
        guard let value = Double(token), value.isFinite else { return nil }
        return value
    }

    mutating func parse(_ text: String) {
        var lines: [(number: Int, tokens: [Substring])] = []
        var number = 0
        text.enumerateLines { line, _ in
            number += 1
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if !tokens.isEmpty { lines.append((number, tokens)) }
        }
        var cursor = 0
        // Header: base / value / prunable / value.
        for keyword in ["base", "prunable"] {
            guard cursor < lines.count, lines[cursor].tokens == [Substring(keyword)] else {
                let found = cursor < lines.count ? lines[cursor].tokens.joined(separator: " ") : nil
                issue(cursor < lines.count ? lines[cursor].number : number, nil,
                      .missingHeader(expected: keyword, found: found))
                return
            }
            cursor += 1
            guard cursor < lines.count else {
                issue(number, nil, .missingHeader(expected: "<\(keyword) seconds>", found: nil))
                return
            }
            let (line, tokens) = lines[cursor]
            guard tokens.count == 1, let value = Self.number(tokens[0]) else {
                issue(line, nil, .malformedNumber(tokens.joined(separator: " ")))
                return
            }
            if keyword == "base" { base = value } else { prunable = value }
            cursor += 1
        }
        // Layer blocks.
        while cursor < lines.count {
            let (line, tokens) = lines[cursor]
            cursor += 1
            switch tokens.count {
            case 1 where Self.number(tokens[0]) == nil:
                blocks.append(ReferenceBlock(layer: LayerID(String(tokens[0])), line: line))
            case 2:
                guard !blocks.isEmpty else { issue(line, nil, .levelOutsideLayer); continue }
                let layer = blocks[blocks.count - 1].layer
                guard let seconds = Self.number(tokens[0]) else { issue(line, layer, .malformedNumber(String(tokens[0]))); continue }
                guard let sparsity = Self.number(tokens[1]) else { issue(line, layer, .malformedNumber(String(tokens[1]))); continue }
                let decimals = tokens[0].split(separator: ".", maxSplits: 1).dropFirst().first?.count ?? 0
                blocks[blocks.count - 1].entries.append(
                    ReferenceEntry(seconds: seconds, sparsity: sparsity, line: line, decimals: decimals))
            default:
                issue(line, blocks.last?.layer, .unexpectedLine(tokens.joined(separator: " ")))
            }
        }
    }

    /// The grid all sparsities lie on (see `parseReferenceText`).
    func inferGrid() -> SparsityGrid {
        let values = blocks.flatMap { $0.entries.map(\.sparsity) }
        if values.allSatisfy({ SparsityGrid.standard.level(matching: $0) != nil }) { return .standard }
        let nonzero = values.filter { $0 > 0.5e-4 }
        guard let minimum = nonzero.min(), let maximum = nonzero.max() else { return .standard }
        var countFrequency: [Int: Int] = [:]
        for block in blocks where !block.entries.isEmpty {
            countFrequency[Set(block.entries.map { format4($0.sparsity) }).count, default: 0] += 1
        }
        let typical = countFrequency.max { ($0.value, $0.key) < ($1.value, $1.key) }?.key ?? 0
        guard typical >= 3,
              let grid = try? SparsityGrid(minimum: minimum, maximum: maximum, steps: typical - 2)
        else { return .standard }
        return grid
    }

    /// Issues sorted by line (stable; issues without a line last).
    func fileOrder(_ issues: [TimingTableIssue]) -> [TimingTableIssue] {
        issues.enumerated().sorted { ($0.element.line ?? .max, $0.offset) < ($1.element.line ?? .max, $1.offset) }
            .map(\.element)
    }

    mutating func table(grid requested: SparsityGrid?, policy: TimingTable.RepairPolicy,
                        engine: String) throws(TimingTableError) -> TimingTable
    {
        let grid = requested ?? inferGrid()
        var repairs: [TimingTableRepair] = []
        var layers: [LayerTiming] = []
        var firstLineOfLayer: [LayerID: Int] = [:]
        var maxDecimals = 0
        for block in blocks {
            let layer = block.layer
            if let first = firstLineOfLayer[layer] {
                issue(block.line, layer, .duplicatedLayer(firstLine: first))
                continue
            }
            firstLineOfLayer[layer] = block.line
            if block.entries.isEmpty {
                if policy.emptyLayer == .drop {
                    repairs.append(TimingTableRepair(file: file, line: block.line, layer: layer,
                                                     action: "layer has no levels; dropped (policy: drop empty layers)"))
                } else {
                    issue(block.line, layer, .emptyLayer)
                }
                continue
            }
            var occurrences: [[ReferenceEntry]] = Array(repeating: [], count: grid.count)
            for entry in block.entries {
                maxDecimals = max(maxDecimals, entry.decimals)
                guard let level = grid.level(matching: entry.sparsity) else {
                    issue(entry.line, layer, .levelNotOnGrid(sparsity: entry.sparsity, grid: grid))
                    continue
                }
                if !(entry.seconds > 0) { issue(entry.line, layer, .nonPositiveTime(entry.seconds)) }
                occurrences[level.index].append(entry)
            }
            var levels: [LevelTiming?] = Array(repeating: nil, count: grid.count)
            var missing: [SparsityLevel] = []
            for (index, found) in occurrences.enumerated() {
                let level = SparsityLevel(index)
                guard let first = found.first else {
                    if index == 0 { issue(block.line, layer, .missingDense) } else { missing.append(level) }
                    continue
                }
                if found.count > 1 {
                    let times = found.map(\.seconds)
                    switch policy.duplicatedLevel {
                    case .reject:
                        for extra in found.dropFirst() {
                            issue(extra.line, layer, .duplicatedLevel(level, sparsity: grid[level], firstLine: first.line))
                        }
                        levels[index] = LevelTiming(seconds: first.seconds)
                    case .keepFirst:
                        levels[index] = LevelTiming(seconds: first.seconds)
                        repairs.append(TimingTableRepair(
                            file: file, line: found[1].line, layer: layer,
                            action: "level \(format4(grid[level])) listed \(found.count)× (lines "
                                + found.map { String($0.line) }.joined(separator: ", ") + ", times "
                                + times.map { "\($0)" }.joined(separator: ", ") + "); kept the first, \(first.seconds) s"))
                    case .keepMedian:
                        let sorted = times.sorted()
                        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                            : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
                        levels[index] = LevelTiming(seconds: median)
                        repairs.append(TimingTableRepair(
                            file: file, line: found[1].line, layer: layer,
                            action: "level \(format4(grid[level])) listed \(found.count)× (lines "
                                + found.map { String($0.line) }.joined(separator: ", ") + ", times "
                                + times.map { "\($0)" }.joined(separator: ", ") + "); kept the median, \(median) s"))
                    }
                } else {
                    levels[index] = LevelTiming(seconds: first.seconds)
                }
            }
            if !missing.isEmpty {
                if policy.missingLevel == .markUnavailable {
                    repairs.append(TimingTableRepair(
                        file: file, line: block.line, layer: layer,
                        action: "missing level\(missing.count == 1 ? "" : "s") "
                            + missing.map { format4(grid[$0]) }.joined(separator: ", ")
                            + "; marked unavailable (the solver never picks \(missing.count == 1 ? "it" : "them"))"))
                } else {
                    issue(block.line, layer, .missingLevels(missing, sparsities: missing.map { grid[$0] }))
                }
            }
            layers.append(LayerTiming(layer: layer, levels: levels))
        }
        guard let base, let prunable else { throw TimingTableError(issues: fileOrder(issues)) }
        if layers.isEmpty && issues.isEmpty { issue(nil, nil, .noLayers) }
        // The declared prunable sum must match the dense times up to their printed rounding.
        let computed = layers.reduce(0) { $0 + $1.denseSeconds }
        let rounding = maxDecimals > 0 ? 0.5 * Foundation.pow(10, -Double(maxDecimals)) : 0
        let tolerance = Double(layers.count) * rounding + 1e-9 * abs(prunable) + 1e-12
        if issues.isEmpty, abs(computed - prunable) > tolerance {
            issue(nil, nil, .prunableSumMismatch(declared: prunable, computed: computed, tolerance: tolerance))
        }
        if base <= 0 { issue(nil, nil, .invalidBase(base)) }
        if base - prunable < 0 { issue(nil, nil, .invalidOverhead(base - prunable)) }
        guard issues.isEmpty else { throw TimingTableError(issues: fileOrder(issues)) }
        return try TimingTable(engine: engine, grid: grid, baseSeconds: base, overheadSeconds: base - prunable,
                               layers: layers, source: file, repairs: repairs)
    }
}
