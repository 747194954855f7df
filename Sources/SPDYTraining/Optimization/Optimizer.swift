import Foundation
import SPDYTensor

/// Updates trainable parameters from their accumulated gradients.
///
/// Masks are respected: the gradient of a pruned element is ignored, the element is zero after
/// every step, and so is its optimiser state (momentum, Adam's moments): a weight pruned during
/// training (gradual pruning) carries no stale momentum, as if it had never been there. Parameters that received no gradient since the last `zeroGradients()` are
/// left alone (as PyTorch does for `grad is None`). `step` does not clear gradients.
public protocol Optimizer: AnyObject {
    /// The learning rate per step.
    var schedule: LearningRateSchedule { get set }
    /// Steps taken so far (the schedule's position).
    var stepCount: Int { get }
    /// One update of every trainable parameter with a gradient.
    func step(_ parameters: TrainingParameters)
    /// The optimiser's state for a checkpoint: per-parameter tensors and scalar settings.
    func exportState() -> OptimizerState
    /// Restores a state made by `exportState()` of the same kind.
    func importState(_ state: OptimizerState) throws
}

/// An optimiser's serialisable state: its kind, step count, settings (JSON) and buffers by
/// "BUFFER/PARAMETER" name (e.g. `m/conv1.weight`).
public struct OptimizerState: Sendable {
    public var kind: String
    public var stepCount: Int
    public var settings: String
    public var schedule: LearningRateSchedule
    public var buffers: [String: Tensor]

    public init(kind: String, stepCount: Int, settings: String, schedule: LearningRateSchedule, buffers: [String: Tensor]) {
        self.kind = kind
        self.stepCount = stepCount
        self.settings = settings
        self.schedule = schedule
        self.buffers = buffers
    }
}

extension TrainingParameters {
    /// Calls `update(name, value, gradient, mask)` for every trainable parameter with a gradient;
    /// then re-applies its mask. Buffers are raw element pointers of equal counts; `mask` (1 kept,
    /// 0 pruned) is nil without one, and the gradient is already zero at masked elements.
    func forEachUpdate(_ update: (_ name: String, _ value: UnsafeMutableBufferPointer<Float>,
                                  _ gradient: UnsafeMutableBufferPointer<Float>, _ mask: [Float]?) -> Void) {
        for i in 0..<store.count where store[i].trainable && store[i].gradient != nil {
            let name = store[i].name, mask = store[i].mask
            var gradient = store[i].gradient!.data
            if let mask {
                for k in gradient.indices where mask[k] == 0 { gradient[k] = 0 }
            }
            gradient.withUnsafeMutableBufferPointer { g in
                store[i].value.data.withUnsafeMutableBufferPointer { v in update(name, v, g, mask) }
            }
            store.applyMask(i)
        }
    }
}

/// Zeroes `buffer` where `mask` is 0 (an optimiser's state of pruned elements).
func clearPruned(_ buffer: inout [Float], mask: [Float]?) {
    guard let mask else { return }
    for k in buffer.indices where mask[k] == 0 { buffer[k] = 0 }
}

/// JSON for optimiser settings.
enum SettingsCoding {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
