import Foundation
import SPDYTensor

/// `Resize` (opset 11+): inputs X, roi, scales, sizes (roi and scales optional from 13; an empty
/// scales or sizes tensor counts as absent). Exactly one of scales (float32, per axis) and sizes
/// (int64) gives the output: with scales, `out = floor(in · scale)`; with sizes, `scale = out / in`.
/// Opset 18 adds the `axes` attribute (scales/sizes then list only those axes) and
/// `keep_aspect_ratio_policy` (stretch, not_larger, not_smaller).
///
/// Modes: `nearest` (any element type; `nearest_mode` round_prefer_floor (default),
/// round_prefer_ceil, floor, ceil) and `linear` (float32, separable over every resized axis,
/// neighbours clamped to the edge). Coordinate transformations: half_pixel (default),
/// pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nearest.
/// Not supported (reported as errors): cubic, tf_crop_and_resize, antialiased downscaling.
enum ResizeOp: OperatorSemantics {
    static let opType = "Resize"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node)
        let (shape, _) = try plan(node, shape: data.type.shape, inputs: inputs, opset: opset)
        if try node.string("mode", default: "nearest") == "linear", data.type.dataType != .float32 {
            throw typeError(node, "linear resize needs float32, got \(data.type.dataType)")
        }
        return [ValueType(data.type.dataType, shape)]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        var x = try required(inputs, 0, node)
        let (shape, scales) = try plan(node, shape: x.shape, inputs: staticInputs(inputs), opset: opset)
        let mode = try node.string("mode", default: "nearest")
        let transform = try node.string("coordinate_transformation_mode", default: "half_pixel")
        let nearestMode = try node.string("nearest_mode", default: "round_prefer_floor")
        if mode == "linear", x.dataType != .float32 { throw typeError(node, "linear resize needs float32, got \(x.dataType)") }
        for axis in 0..<shape.count where shape[axis] != x.shape[axis] || scales[axis] != 1 {
            x = try resample(node, x, axis: axis, to: shape[axis], scale: scales[axis],
                             mode: mode, transform: transform, nearestMode: nearestMode)
        }
        return [x]
    }

    /// Output shape and the per-axis scale the coordinate transformation uses.
    static func plan(_ node: Node, shape: [Int], inputs: [StaticValue?], opset: Int) throws -> ([Int], [Double]) {
        guard opset >= 11 else { throw typeError(node, "Resize before opset 11 (scales only, different rounding) is not supported") }
        let mode = try node.string("mode", default: "nearest")
        guard mode == "nearest" || mode == "linear" else {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "mode", reason: "'\(mode)' is not supported (nearest, linear)")
        }
        let transform = try node.string("coordinate_transformation_mode", default: "half_pixel")
        guard ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nearest"].contains(transform) else {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "coordinate_transformation_mode",
                                          reason: "'\(transform)' is not supported")
        }
        let nearestMode = try node.string("nearest_mode", default: "round_prefer_floor")
        guard ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"].contains(nearestMode) else {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "nearest_mode", reason: "unknown mode '\(nearestMode)'")
        }
        let rank = shape.count
        let axes = opset >= 18 ? try normalizedAxes(try node.ints("axes") ?? Array(0..<rank), rank: rank, node) : Array(0..<rank)

        var scalesTensor: Tensor? = nil
        if inputs.count > 2, inputs[2] != nil {
            let t = try constant(inputs, 2, node)
            if t.count > 0 { scalesTensor = t }
        }
        var sizesTensor: Tensor? = nil
        if inputs.count > 3, inputs[3] != nil {
            let t = try constant(inputs, 3, node)
            if t.count > 0 { sizesTensor = t }  // empty sizes, like empty scales, count as absent
        }

        var out = shape
        var scales = [Double](repeating: 1, count: rank)
        switch (scalesTensor, sizesTensor) {
        case (let s?, nil):
            guard s.dataType == .float32 else { throw typeError(node, "scales must be float32, got \(s.dataType)") }
            let values = s.floats
            guard values.count == axes.count else { throw shapeError(node, "scales \(values) need \(axes.count) entries for input \(shape)") }
            for (k, axis) in axes.enumerated() {
                guard values[k] > 0, values[k].isFinite else { throw shapeError(node, "scale \(values[k]) must be positive") }
                scales[axis] = Double(values[k])
                out[axis] = try checkedDimension(Double((Float(shape[axis]) * values[k]).rounded(.down)), node)
            }
        case (nil, let s?):
            let sizes = try intValues(s, node, "sizes")
            guard sizes.count == axes.count, sizes.allSatisfy({ $0 >= 0 }) else {
                throw shapeError(node, "sizes \(sizes) need \(axes.count) nonnegative entries for input \(shape)")
            }
            let policy = opset >= 18 ? try node.string("keep_aspect_ratio_policy", default: "stretch") : "stretch"
            switch policy {
            case "stretch":
                for (k, axis) in axes.enumerated() {
                    out[axis] = sizes[k]
                    guard shape[axis] > 0 else { throw shapeError(node, "cannot resize empty axis \(axis) of \(shape)") }
                    scales[axis] = Double(sizes[k]) / Double(shape[axis])
                }
            case "not_larger", "not_smaller":
                let ratios = try axes.enumerated().map { k, axis -> Double in
                    guard shape[axis] > 0 else { throw shapeError(node, "cannot resize empty axis \(axis) of \(shape)") }
                    return Double(sizes[k]) / Double(shape[axis])
                }
                let common = policy == "not_larger" ? ratios.min() ?? 1 : ratios.max() ?? 1
                for axis in axes {
                    scales[axis] = common
                    out[axis] = try checkedDimension((common * Double(shape[axis])).rounded(.toNearestOrEven), node)
                }
            default:
                throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "keep_aspect_ratio_policy",
                                              reason: "unknown policy '\(policy)'")
            }
        case (nil, nil):
            throw shapeError(node, "needs either scales or sizes")
        case (_?, _?):
            throw shapeError(node, "has both scales and sizes; exactly one is allowed")
        }
        if opset >= 18, try node.int("antialias", default: 0) != 0, mode != "nearest", scales.contains(where: { $0 < 1 }) {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "antialias",
                                          reason: "antialiased downscaling is not supported")
        }
        return (try checkedShape(out, node), scales)
    }

    /// The input coordinate of output coordinate `x` along an axis of `length` resized to `resized`.
    static func sourceCoordinate(_ x: Int, length: Int, resized: Int, scale: Double, transform: String) -> Double {
        let x = Double(x)
        switch transform {
        case "asymmetric": return x / scale
        case "align_corners": return resized == 1 ? 0 : x * Double(length - 1) / Double(resized - 1)
        case "pytorch_half_pixel": return resized > 1 ? (x + 0.5) / scale - 0.5 : 0
        case "tf_half_pixel_for_nearest": return (x + 0.5) / scale
        default: return (x + 0.5) / scale - 0.5  // half_pixel
        }
    }

    /// The nearest input index to coordinate `x`, clamped into `0..<length`.
    static func nearestIndex(_ x: Double, length: Int, mode: String) -> Int {
        let f = x.rounded(.down)
        let r: Double
        switch mode {
        case "floor": r = f
        case "ceil": r = x.rounded(.up)
        case "round_prefer_ceil": r = x - f == 0.5 ? f + 1 : x.rounded()
        default: r = x - f == 0.5 ? f : x.rounded()  // round_prefer_floor
        }
        return Int(min(max(r, 0), Double(length - 1)))
    }

    /// `x` resampled along `axis` to `resized` elements.
    static func resample(_ node: Node, _ x: Tensor, axis: Int, to resized: Int, scale: Double,
                         mode: String, transform: String, nearestMode: String) throws -> Tensor {
        let length = x.shape[axis]
        var shape = x.shape
        shape[axis] = resized
        let outer = Tensor.elementCount(Array(x.shape[..<axis]))
        let inner = Tensor.elementCount(Array(x.shape[(axis + 1)...]))
        guard Tensor.elementCount(shape) > 0 else { return Tensor(zeros: shape, dataType: x.dataType) }
        guard length > 0 else { throw shapeError(node, "cannot resize empty axis \(axis) of \(x.shape) to \(resized)") }
        let coordinates = (0..<resized).map { sourceCoordinate($0, length: length, resized: resized, scale: scale, transform: transform) }
        if mode == "nearest" {
            let source = coordinates.map { nearestIndex($0, length: length, mode: nearestMode) }
            var indices: [Int] = []
            indices.reserveCapacity(outer * resized * inner)
            for o in 0..<outer {
                for i in source {
                    let start = (o * length + i) * inner
                    indices.append(contentsOf: start..<(start + inner))
                }
            }
            return x.gathered(flatIndices: indices, shape: shape)
        }
        // Linear: two neighbours per output coordinate, clamped to the edge.
        let taps = coordinates.map { c -> (Int, Int, Float) in
            let clamped = min(max(c, 0), Double(length - 1))
            let i0 = Int(clamped.rounded(.down))
            return (i0, min(i0 + 1, length - 1), Float(clamped - Double(i0)))
        }
        let v = x.floats
        var result: [Float] = []
        result.reserveCapacity(outer * resized * inner)
        for o in 0..<outer {
            for (i0, i1, w) in taps {
                let a = (o * length + i0) * inner, b = (o * length + i1) * inner
                for k in 0..<inner { result.append(v[a + k] * (1 - w) + v[b + k] * w) }
            }
        }
        return Tensor(shape: shape, floats: result)
    }
}
