import Foundation
import SPDYKernels
import SPDYCore
import SPDYEngine
import SPDYGraph
import SPDYPruning

/// Helpers shared by the pipeline commands (time, database, search, apply, prune, demo).
enum PipelineSupport {
    /// The layers SPDY keeps dense by default: a CNN's first convolution and its final
    /// classifier (a Gemm/MatMul after the last convolution), as in the paper.
    static func defaultExclusions(_ layers: [PrunableLayer]) -> [String] {
        guard let firstConv = layers.first(where: { $0.opType == "Conv" }) else { return [] }
        var excluded = [firstConv.id]
        if let last = layers.last, last.opType != "Conv" { excluded.append(last.id) }
        return excluded
    }

    /// The prunable layers of `graph` for `shapes`.
    static func prunableLayers(_ graph: Graph, shapes: [String: [Int]]) throws -> [PrunableLayer] {
        PrunableLayer.discover(in: graph, analysis: try StaticAnalysis(graph, inputShapes: shapes))
    }

    /// "AMD Ryzen … (2 cores, sparse avx2, dense nchw)" from /proc/cpuinfo, or the host name. The
    /// sparse kernels' instruction set and the dense convolutions' layout (direct NCHW16c or
    /// NCHW, docs/dense-convolutions.md) are part of it because they change every layer's time:
    /// a table measured by another build is not reused (`PipelineRun.timings`).
    static func machineDescription() -> String {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let dense = EngineOptions().directConvolutions ? "nchw16c" : "nchw"
        let details = "(\(cores) cores, sparse \(SparseMatrix.instructionSet.rawValue), dense \(dense))"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let name = line.split(separator: ":", maxSplits: 1).last {
            return "\(name.trimmingCharacters(in: .whitespaces)) \(details)"
        }
        return "\(ProcessInfo.processInfo.hostName) \(details)"
    }

    /// Reads a timing table (our JSON or the reference text) and checks it covers `layers`.
    static func loadTable(_ path: String, layers: [PrunableLayer]? = nil) throws -> TimingTable {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): cannot read the timing table") }
        let table = try TimingTable.load(from: data, file: path, policy: .strict)
        if let layers {
            let known = Set(table.layers.map(\.layer.name))
            let missing = layers.map(\.id).filter { !known.contains($0) }
            if !missing.isEmpty {
                throw CLIError("\(path): the timing table has no times for \(missing.count) layer(s) of the model: \(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? ", …" : "") (timed for another model?)")
            }
            let modelLayers = Set(layers.map(\.id))
            let extra = table.layers.map(\.layer.name).filter { !modelLayers.contains($0) }
            if !extra.isEmpty {
                throw CLIError("\(path): the timing table lists layer(s) the model does not have: \(extra.prefix(5).joined(separator: ", "))")
            }
        }
        return table
    }

    /// Reads a profile: our JSON, or the reference's `<sparsity> <layer>` text on `grid`.
    static func loadProfile(_ path: String, grid: SparsityGrid = .standard) throws -> Profile {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): cannot read") }
        if data.first == UInt8(ascii: "{") { return try Profile.decodeJSON(data, file: path) }
        return try Profile.parseReferenceText(String(decoding: data, as: UTF8.self), grid: grid, file: path)
    }

    /// Writes `data` atomically (temporary file + rename).
    static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        try data.write(to: temporary)
        guard rename(temporary.path, url.path) == 0 else { throw CLIError("\(path): cannot write (rename failed)") }
    }

    /// Encodes a value as pretty JSON with sorted keys.
    static func json<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(value)
    }
}

/// A progress line on a terminal (rewritten in place), milestones only in pipes.
struct ProgressLine {
    let interactive = isatty(2) != 0
    var lastMilestone = -1
    var lastPrinted = Date.distantPast
    /// In a log (not a terminal) a line is printed at every quarter of the work and at least this
    /// often while work goes on (phases without a known fraction, like the search).
    static let logInterval: TimeInterval = 30

    /// Shows `message` at `fraction` (0…1) of the work.
    mutating func update(_ message: String, fraction: Double) {
        if interactive {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(message)".utf8))
        } else {
            let milestone = Int(fraction * 4)
            if milestone > lastMilestone || Date().timeIntervalSince(lastPrinted) >= Self.logInterval {
                lastMilestone = max(lastMilestone, milestone)
                lastPrinted = Date()
                printError(message)
            }
        }
    }

    /// Ends the line.
    mutating func finish(_ message: String) {
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        printError(message)
        lastMilestone = -1
    }
}
