import Foundation

/// Everything needed to continue a ``SensitivitySearch`` exactly where it stopped: the generator
/// state, the phase, the best candidate, the memo of evaluated profiles and the counters.
///
/// A state saved after any candidate and resumed gives the same final result as an uninterrupted
/// run with the same seed. It is Codable; use ``encodeJSON()``/``decodeJSON(_:)``, which also
/// encode infinite and NaN losses.
public struct SearchState: Hashable, Sendable, Codable {
    /// Where the search is.
    public enum Phase: Hashable, Sendable, Codable {
        /// Sampling random coefficient vectors; `completed` have been evaluated.
        case random(completed: Int)
        /// Local search resampling `k` coordinates; `failures` consecutive non-improvements so far.
        case local(k: Int, failures: Int)
        /// The search has finished.
        case finished
    }

    /// One memoised evaluation: the levels of the searched layers and the oracle's loss.
    public struct MemoEntry: Hashable, Sendable, Codable {
        /// The level index of every searched layer.
        public var levels: [UInt8]
        /// The loss the oracle returned.
        public var loss: Double
    }

    /// The configuration the search runs with.
    public var configuration: SensitivitySearch.Configuration
    /// The searched layers, to refuse resuming against another problem.
    public var layers: [LayerID]
    /// The target speedup, to refuse resuming against another problem.
    public var targetSpeedup: Double
    /// The generator, positioned after the last completed candidate.
    public var generator: SplitMix64
    /// The current phase.
    public var phase: Phase
    /// The best coefficients so far.
    public var bestCoefficients: [Double]?
    /// The best loss so far.
    public var bestLoss: Double?
    /// The levels of every table layer of the best profile so far.
    public var bestLevels: [SparsityLevel]?
    /// The statistics so far.
    public var statistics: SensitivitySearch.Statistics
    /// Every evaluated profile, in evaluation order.
    public var memo: [MemoEntry]

    /// Whether the search has finished.
    public var isFinished: Bool { phase == .finished }

    /// Encodes as JSON (non-finite losses as strings).
    public func encodeJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                      nan: "nan")
        do { return try encoder.encode(self) } catch { preconditionFailure("a search state always encodes: \(error)") }
    }

    /// Decodes JSON written by ``encodeJSON()``.
    public static func decodeJSON(_ data: Data) throws(SearchError) -> SearchState {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                        nan: "nan")
        do { return try decoder.decode(SearchState.self, from: data) } catch let error as DecodingError {
            throw .invalidState(error.readableDescription)
        } catch {
            throw .invalidState("\(error)")
        }
    }
}

/// Why a search stopped without a result.
public enum SearchError: Error, Sendable, CustomStringConvertible {
    /// The oracle threw; `state` is the state before the failing candidate, ready to resume.
    case oracleFailed(message: String, state: SearchState)
    /// A saved state does not belong to this problem (other layers or target).
    case stateMismatch(String)
    /// A saved state could not be decoded.
    case invalidState(String)

    /// A readable explanation.
    public var description: String {
        switch self {
        case let .oracleFailed(message, state):
            return "the loss oracle failed after \(state.statistics.oracleEvaluations) evaluations: \(message)"
        case let .stateMismatch(message): return "the saved search state does not fit this problem: \(message)"
        case let .invalidState(message): return "not a valid saved search state: \(message)"
        }
    }
}
