/// Errors of the pruning pipeline: bad calibration data, databases that do not fit the model,
/// layers it cannot handle. Each names the file, input or layer at fault.
public enum PruningError: Error, Equatable, CustomStringConvertible {
    /// A layer the pipeline cannot reconstruct.
    case unsupportedLayer(layer: String, reason: String)
    /// The calibration folder is unusable.
    case calibration(file: String, reason: String)
    /// A database file or folder is unusable (corrupt, from another model or calibration set).
    case database(file: String, reason: String)
    /// A profile names a layer or level the database does not have.
    case profile(layer: String, reason: String)
    /// A numerical failure in a layer's reconstruction.
    case numerical(layer: String, reason: String)
    /// Global AdaPrune cannot run or resume (bad settings, a saved state from another run).
    case globalAdaPrune(file: String, reason: String)
    /// Gradual pruning cannot run or resume (bad settings, a saved state from another run).
    case training(file: String, reason: String)

    /// A readable explanation.
    public var description: String {
        switch self {
        case let .unsupportedLayer(layer, reason): return "layer '\(layer)': cannot prune: \(reason)"
        case let .calibration(file, reason): return "calibration data \(file): \(reason)"
        case let .database(file, reason): return "reconstruction database \(file): \(reason)"
        case let .profile(layer, reason): return "profile layer '\(layer)': \(reason)"
        case let .numerical(layer, reason): return "layer '\(layer)': \(reason)"
        case let .globalAdaPrune(file, reason): return "gAP \(file): \(reason)"
        case let .training(file, reason): return "gradual pruning \(file): \(reason)"
        }
    }
}
