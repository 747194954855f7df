import Foundation
import SPDYTensor

/// `Resize` (opset 11+): inputs X, roi, scales, sizes (roi and scales optional from 13; an empty
/// scales or sizes tensor counts as absent). Exactly one of scales (float32, per axis) and sizes
/// (int64) gives the output: with scales, `out = floor(in · scale)`; with sizes, `scale = out / in`.
/// Opset 18 adds the `axes` attribute (scales/sizes then list only those axes), `antialias` and
/// `keep_aspect_ratio_policy` (stretch, not_larger, not_smaller; sizes rounded half up).
///
/// Modes: `nearest` (any element type; `nearest_mode` round_prefer_floor (default),
/// round_prefer_ceil, floor, ceil), `linear` and `cubic` (float32, separable over every resized
/// axis, neighbours clamped to the edge; cubic with `cubic_coeff_a` (default −0.75) and
/// `exclude_outside`; with `antialias` (opset 18) downscaling widens the filter by 1/scale).
/// Coordinate transformations: half_pixel (default), pytorch_half_pixel, align_corners,
/// asymmetric, tf_half_pixel_for_nearest, tf_crop_and_resize (`roi`, `extrapolation_value`) and,
/// from opset 19, half_pixel_symmetric. As in the ONNX reference, align_corners and the size-1
/// cases use the unrounded output length `in · scale`.
enum ResizeOp: OperatorSemantics {
    static let opType = "Resize"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node)
        let (shape, _) = try plan(node, shape: data.type.shape, inputs: inputs, opset: opset)
        let mode = try node.string("mode", default: "nearest")
        if mode != "nearest", data.type.dataType != .float32 {
            throw typeError(node, "\(mode) resize needs float32, got \(data.type.dataType)")
        }
        return [ValueType(data.type.dataType, shape)]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        var x = try required(inputs, 0, node)
        let (shape, scales) = try plan(node, shape: x.shape, inputs: staticInputs(inputs), opset: opset)
        let mode = try node.string("mode", default: "nearest")
        if mode != "nearest", x.dataType != .float32 { throw typeError(node, "\(mode) resize needs float32, got \(x.dataType)") }
        var filter = Filter(mode: mode,
                            transform: try node.string("coordinate_transformation_mode", default: "half_pixel"),
                            nearestMode: try node.string("nearest_mode", default: "round_prefer_floor"),
                            cubicA: Double(try node.float("cubic_coeff_a", default: -0.75)),
                            excludeOutside: try node.int("exclude_outside", default: 0) != 0,
                            antialias: try opset >= 18 && node.int("antialias", default: 0) != 0,
                            extrapolation: try node.float("extrapolation_value", default: 0))
        let rank = x.rank
        // roi [starts…, ends…] per axis (or per `axes` entry from opset 18); only tf_crop_and_resize reads it.
        var roi: [(Double, Double)] = Array(repeating: (0, 1), count: rank)
        if filter.transform == "tf_crop_and_resize" {
            guard inputs.count > 1, let r = inputs[1], r.count > 0 else { throw shapeError(node, "tf_crop_and_resize needs the roi input") }
            let axes = opset >= 18 ? try normalizedAxes(try node.ints("axes") ?? Array(0..<rank), rank: rank, node) : Array(0..<rank)
            let values = r.doubles
            guard values.count == 2 * axes.count else { throw shapeError(node, "roi \(values) needs \(2 * axes.count) entries") }
            for (k, axis) in axes.enumerated() { roi[axis] = (values[k], values[k + axes.count]) }
        }
        for axis in 0..<shape.count where shape[axis] != x.shape[axis] || scales[axis] != 1 || roi[axis] != (0, 1) {
            filter.roi = roi[axis]
            x = try resample(node, x, axis: axis, to: shape[axis], scale: scales[axis], filter: filter)
        }
        return [x]
    }

    /// How one axis is resampled (from the node's attributes).
    struct Filter {
        var mode: String, transform: String, nearestMode: String
        var cubicA: Double, excludeOutside: Bool, antialias: Bool
        var extrapolation: Float
        var roi: (Double, Double) = (0, 1)

        /// Interpolation weights for the window of input positions around a coordinate whose
        /// distance past the window's left centre tap is `ratio` (in (0, 1]), as in the ONNX
        /// reference (`_linear_coeffs`, `_cubic_coeffs` and their antialiased forms).
        func coefficients(ratio r: Double, scale: Double) -> [Double] {
            let a = cubicA
            if mode == "linear" {
                guard antialias else { return [1 - r, r] }
                let s = min(scale, 1)
                let start = Int((-1 / s).rounded(.down)) + 1
                let c = (start..<(2 - start)).map { Swift.min(Swift.max(1 - Swift.abs((Double($0) - r) * s), 0), 1) }
                let sum = c.reduce(0, +)
                return c.map { $0 / sum }
            }
            // cubic
            guard antialias else {
                return [((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
                        ((a + 2) * r - (a + 3)) * r * r + 1,
                        ((a + 2) * (1 - r) - (a + 3)) * (1 - r) * (1 - r) + 1,
                        ((a * ((1 - r) + 1) - 5 * a) * ((1 - r) + 1) + 8 * a) * ((1 - r) + 1) - 4 * a]
            }
            let s = min(scale, 1)
            let start = Int((-2 / s).rounded(.down)) + 1
            let c = (start..<(2 - start)).map { i -> Double in
                let x = Swift.abs(s * (Double(i) - r))
                if x <= 1 { return (a + 2) * x * x * x - (a + 3) * x * x + 1 }
                if x < 2 { return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a }
                return 0
            }
            let sum = c.reduce(0, +)
            return c.map { $0 / sum }
        }
    }

    /// Output shape and the per-axis scale the coordinate transformation uses.
    static func plan(_ node: Node, shape: [Int], inputs: [StaticValue?], opset: Int) throws -> ([Int], [Double]) {
        guard opset >= 11 else { throw typeError(node, "Resize before opset 11 (scales only, different rounding) is not supported") }
        let mode = try node.string("mode", default: "nearest")
        guard mode == "nearest" || mode == "linear" || mode == "cubic" else {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "mode", reason: "'\(mode)' is not supported (nearest, linear, cubic)")
        }
        let transform = try node.string("coordinate_transformation_mode", default: "half_pixel")
        var transforms = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nearest", "tf_crop_and_resize"]
        if opset >= 19 { transforms.append("half_pixel_symmetric") }
        guard transforms.contains(transform) else {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "coordinate_transformation_mode",
                                          reason: "'\(transform)' is not supported at opset \(opset) (\(transforms.joined(separator: ", ")))")
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
                    out[axis] = try checkedDimension((common * Double(shape[axis]) + 0.5).rounded(.down), node)  // half up
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
        return (try checkedShape(out, node), scales)
    }

    /// The input coordinate of output coordinate `x` along an axis of `length` resized to `resized`
    /// (`length · scale` unrounded is the reference's `output_width`).
    static func sourceCoordinate(_ x: Int, length: Int, resized: Int, scale: Double, transform: String,
                                 roi: (Double, Double) = (0, 1)) -> Double {
        let x = Double(x)
        let width = scale * Double(length)
        switch transform {
        case "asymmetric": return x / scale
        case "align_corners": return width == 1 ? 0 : x * Double(length - 1) / (width - 1)
        case "pytorch_half_pixel": return width == 1 ? -0.5 : (x + 0.5) / scale - 0.5
        case "tf_half_pixel_for_nearest": return (x + 0.5) / scale
        case "half_pixel_symmetric":
            let offset = Double(length) / 2 * (1 - Double(resized) / width)
            return offset + (x + 0.5) / scale - 0.5
        case "tf_crop_and_resize":
            let span = (roi.1 - roi.0) * Double(length - 1)
            return (width == 1 ? span / 2 : x * span / (width - 1)) + roi.0 * Double(length - 1)
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
    static func resample(_ node: Node, _ x: Tensor, axis: Int, to resized: Int, scale: Double, filter: Filter) throws -> Tensor {
        let length = x.shape[axis]
        var shape = x.shape
        shape[axis] = resized
        let outer = Tensor.elementCount(Array(x.shape[..<axis]))
        let inner = Tensor.elementCount(Array(x.shape[(axis + 1)...]))
        guard Tensor.elementCount(shape) > 0 else { return Tensor(zeros: shape, dataType: x.dataType) }
        guard length > 0 else { throw shapeError(node, "cannot resize empty axis \(axis) of \(x.shape) to \(resized)") }
        let coordinates = (0..<resized).map {
            sourceCoordinate($0, length: length, resized: resized, scale: scale, transform: filter.transform, roi: filter.roi)
        }
        // tf_crop_and_resize: coordinates outside the input take `extrapolation_value`.
        let outside = coordinates.map { filter.transform == "tf_crop_and_resize" && ($0 < 0 || $0 > Double(length - 1)) }
        if filter.mode == "nearest" {
            let source = coordinates.map { nearestIndex($0, length: length, mode: filter.nearestMode) }
            // Index `x.count` is the extrapolation value, appended after the input's elements.
            var indices: [Int] = []
            indices.reserveCapacity(outer * resized * inner)
            for o in 0..<outer {
                for (j, i) in source.enumerated() {
                    if outside[j] {
                        indices.append(contentsOf: repeatElement(x.count, count: inner))
                    } else {
                        let start = (o * length + i) * inner
                        indices.append(contentsOf: start..<(start + inner))
                    }
                }
            }
            let fill = onnxCast(Tensor(shape: [1], floats: [filter.extrapolation]), to: x.dataType)
            return Tensor.joined([x.reshaped([x.count]), fill]).gathered(flatIndices: indices, shape: shape)
        }
        // Linear and cubic: a window of taps per output coordinate (the reference's
        // `_interpolate_1d_along_axis`): ratio in (0, 1] past the tap left of the coordinate,
        // the window's positions clamped to the edge (or dropped, with exclude_outside).
        let taps = coordinates.map { c -> [(Int, Double)] in
            let f = c.rounded(.down)
            let ratio = c == f ? 1 : c - f
            var weights = filter.coefficients(ratio: ratio, scale: scale)
            let n = weights.count
            let start = Int(f) + (c == f ? -(n / 2) : -(n / 2) + 1)
            let positions = (start..<(start + n)).map { $0 }
            if filter.excludeOutside {
                for (k, p) in positions.enumerated() where p < 0 || p >= length { weights[k] = 0 }
                let sum = weights.reduce(0, +)
                if sum != 0 { weights = weights.map { $0 / sum } }
            }
            return zip(positions, weights).map { (Swift.min(Swift.max($0, 0), length - 1), $1) }
        }
        let v = x.floats
        var result: [Float] = []
        result.reserveCapacity(outer * resized * inner)
        for o in 0..<outer {
            for (j, window) in taps.enumerated() {
                if outside[j] {
                    result.append(contentsOf: repeatElement(filter.extrapolation, count: inner))
                    continue
                }
                for k in 0..<inner {
                    var sum = 0.0
                    for (i, w) in window { sum += Double(v[(o * length + i) * inner + k]) * w }
                    result.append(Float(sum))
                }
            }
        }
        return Tensor(shape: shape, floats: result)
    }
}
