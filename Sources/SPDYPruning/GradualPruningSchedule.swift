import Foundation

/// When and how far gradual magnitude pruning raises a layer's sparsity (Zhu & Gupta 2017,
/// "To prune, or not to prune"): dense before `startStep`; from `startStep` to `endStep` the
/// sparsity rises on the cubic s_t = s_f + (s_i − s_f)(1 − (t − start)/(end − start))³ from the
/// initial sparsity s_i to the layer's final s_f; s_f from `endStep` on. Masks are recomputed
/// every `frequency` optimiser steps inside the window and always at `endStep`, so the last
/// update lands exactly on the final sparsity. Steps are 0-based optimiser steps; the masks of
/// step t are chosen before update t.
public struct GradualPruningSchedule: Sendable, Equatable, Codable {
    /// The sparsity of the first mask (s_i), capped at each layer's final sparsity.
    public var initialSparsity: Double
    /// The first pruning step.
    public var startStep: Int
    /// The step at which every layer reaches its final sparsity (≥ `startStep`).
    public var endStep: Int
    /// Optimiser steps between mask updates inside the window (≥ 1).
    public var frequency: Int

    /// Creates a schedule.
    public init(initialSparsity: Double = 0.05, startStep: Int, endStep: Int, frequency: Int) {
        precondition((0...1).contains(initialSparsity), "initial sparsity must be in [0, 1]")
        precondition(startStep >= 0 && endStep >= startStep && frequency >= 1, "need 0 ≤ start ≤ end and a positive frequency")
        self.initialSparsity = initialSparsity
        self.startStep = startStep
        self.endStep = endStep
        self.frequency = frequency
    }

    /// A layer's sparsity at `step` when its final sparsity is `final`: 0 before the window,
    /// the cubic inside it, `final` from `endStep` on. Non-decreasing in `step`.
    public func sparsity(at step: Int, final: Double) -> Double {
        guard step >= startStep else { return 0 }
        guard step < endStep else { return final }
        let initial = min(initialSparsity, final)
        let remaining = 1 - Double(step - startStep) / Double(endStep - startStep)
        return final + (initial - final) * remaining * remaining * remaining
    }

    /// The number of a layer's `count` weights pruned at `step` when `finalZeros` are pruned at
    /// the end: round(s_t · count), exactly `finalZeros` from `endStep` on.
    public func zeros(at step: Int, finalZeros: Int, of count: Int) -> Int {
        guard count > 0 else { return 0 }
        guard step < endStep else { return step >= startStep ? finalZeros : 0 }
        let final = Double(finalZeros) / Double(count)
        return min(finalZeros, Int((sparsity(at: step, final: final) * Double(count)).rounded()))
    }

    /// Whether the masks are recomputed before update `step`.
    public func prunes(at step: Int) -> Bool {
        step >= startStep && step <= endStep && ((step - startStep) % frequency == 0 || step == endStep)
    }
}

/// A layer gradual pruning drives to a profile's level: its weight and the number of its
/// elements pruned at the end.
public struct GradualPruningTarget: Sendable, Equatable, Codable {
    /// The weight initializer (the layer's ID).
    public var layer: String
    /// Elements of the weight.
    public var count: Int
    /// Elements pruned at the end: count − survivors of the profile's level, as stitching
    /// from the database prunes them (so both give the profile's sparsity exactly).
    public var finalZeros: Int

    /// Creates a target.
    public init(layer: String, count: Int, finalZeros: Int) {
        precondition(count >= 0 && (0...count).contains(finalZeros), "final zeros must lie in 0…count")
        self.layer = layer
        self.count = count
        self.finalZeros = finalZeros
    }

    /// The final sparsity, finalZeros / count.
    public var sparsity: Double { count > 0 ? Double(finalZeros) / Double(count) : 0 }
}

/// Magnitude masks for gradual pruning: nested, so a weight once pruned stays pruned.
public enum MagnitudeMask {
    /// Keep-flags (false = pruned) pruning `zeros` elements of `weights`: every element already
    /// pruned (`previous[i] == false`) first, then the smallest magnitudes (ties by index).
    public static func keep(_ weights: [Float], zeros: Int, previous: [Bool]? = nil) -> [Bool] {
        precondition((0...weights.count).contains(zeros), "cannot prune \(zeros) of \(weights.count) elements")
        precondition(previous.map { $0.count == weights.count } ?? true, "previous mask of another size")
        let order = weights.indices.sorted { a, b in
            let pa = previous.map { !$0[a] } ?? false, pb = previous.map { !$0[b] } ?? false
            if pa != pb { return pa }
            let ma = abs(weights[a]), mb = abs(weights[b])
            return ma != mb ? ma < mb : a < b
        }
        var keep = [Bool](repeating: true, count: weights.count)
        for i in order.prefix(zeros) { keep[i] = false }
        return keep
    }
}
