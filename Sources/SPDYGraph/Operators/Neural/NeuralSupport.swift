import SPDYTensor

// Shared validation for the neural-network family: float checks, axes, and the sliding-window
// geometry (kernel, strides, pads, dilations, auto_pad) common to Conv and the pools.

/// Attribute values beyond this are rejected, so window arithmetic cannot overflow.
let maxWindowAttribute = 1 << 31

extension OperatorSemantics {
    /// Throws unless `type` is float32; `what` names the input in the message.
    static func requireFloat(_ node: Node, _ type: ValueType, _ what: String) throws {
        guard type.dataType == .float32 else { throw typeError(node, "\(what) must be float32, got \(type.dataType)") }
    }

    /// `axis` normalised into `0..<rank`, or a bad-attribute error.
    static func normalizedAxis(_ node: Node, _ axis: Int, rank: Int, attribute: String = "axis") throws -> Int {
        guard axis >= -rank && axis < rank else {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: attribute,
                                          reason: "\(axis) is out of range for rank \(rank)")
        }
        return axis < 0 ? axis + rank : axis
    }

    /// Throws when an optional output at `index` or beyond is requested (named and non-empty).
    static func rejectOutputs(_ node: Node, from index: Int, _ reason: String) throws {
        if node.outputs.count > index, node.outputs[index...].contains(where: { !$0.isEmpty }) {
            throw typeError(node, reason)
        }
    }
}

/// Resolved sliding-window parameters for the spatial axes of a Conv or pooling node.
struct WindowGeometry: Equatable {
    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]
    var padsBegin: [Int]
    var padsEnd: [Int]
    var ceilMode: Bool
    /// Output spatial sizes.
    var output: [Int]

    /// Reads `strides`, `pads`, `dilations`, `auto_pad` (and `ceil_mode` when `allowCeilMode`)
    /// from `node` for an input with spatial sizes `spatial` and window `kernel`.
    ///
    /// `auto_pad`: NOTSET uses `pads` (default zeros); VALID uses no padding; SAME_UPPER and
    /// SAME_LOWER give `ceil(in / stride)` outputs, padding the odd extra at the end (UPPER) or
    /// start (LOWER). `ceil_mode` applies only to explicit padding, following the formulas in
    /// the ONNX operator documentation.
    static func resolve<Op: OperatorSemantics>(_ op: Op.Type, _ node: Node, spatial: [Int], kernel: [Int],
                                               allowDilations: Bool = true, allowCeilMode: Bool = false) throws -> WindowGeometry {
        let r = spatial.count
        func bad(_ attribute: String, _ reason: String) -> GraphError {
            .badAttribute(node: node.name, opType: node.opType, attribute: attribute, reason: reason)
        }
        func list(_ name: String, count: Int, default value: Int, minimum: Int) throws -> [Int] {
            let v = try node.ints(name) ?? [Int](repeating: value, count: count)
            guard v.count == count else { throw bad(name, "expected \(count) values for \(r) spatial axes, got \(v.count)") }
            guard v.allSatisfy({ $0 >= minimum && $0 <= maxWindowAttribute }) else {
                throw bad(name, "values \(v) must lie in \(minimum)...\(maxWindowAttribute)")
            }
            return v
        }
        guard kernel.count == r else { throw bad("kernel_shape", "expected \(r) values, got \(kernel.count)") }
        guard kernel.allSatisfy({ $0 >= 1 && $0 <= maxWindowAttribute }) else { throw bad("kernel_shape", "values \(kernel) must be positive") }
        let strides = try list("strides", count: r, default: 1, minimum: 1)
        let dilations = allowDilations ? try list("dilations", count: r, default: 1, minimum: 1) : [Int](repeating: 1, count: r)
        let ceilMode = allowCeilMode ? try node.int("ceil_mode", default: 0) != 0 : false
        let autoPad = try node.string("auto_pad", default: "NOTSET")
        var padsBegin = [Int](repeating: 0, count: r), padsEnd = padsBegin
        var output = [Int](repeating: 0, count: r)
        let effective = (0..<r).map { (kernel[$0] - 1) * dilations[$0] + 1 }
        switch autoPad {
        case "NOTSET", "":
            let pads = try list("pads", count: 2 * r, default: 0, minimum: 0)
            padsBegin = Array(pads[..<r])
            padsEnd = Array(pads[r...])
            for d in 0..<r {
                output[d] = ReferenceMath.windowCount(input: spatial[d], kernel: kernel[d], stride: strides[d], padBegin: padsBegin[d],
                                                      padEnd: padsEnd[d], dilation: dilations[d], ceilMode: ceilMode)
            }
        case "VALID":
            for d in 0..<r {
                output[d] = ReferenceMath.windowCount(input: spatial[d], kernel: kernel[d], stride: strides[d], padBegin: 0,
                                                      padEnd: 0, dilation: dilations[d])
            }
        case "SAME_UPPER", "SAME_LOWER":
            for d in 0..<r {
                output[d] = (spatial[d] + strides[d] - 1) / strides[d]
                let total = max(0, (output[d] - 1) * strides[d] + effective[d] - spatial[d])
                let small = total / 2
                padsBegin[d] = autoPad == "SAME_UPPER" ? small : total - small
                padsEnd[d] = total - padsBegin[d]
            }
        default:
            throw bad("auto_pad", "unknown value '\(autoPad)' (NOTSET, SAME_UPPER, SAME_LOWER or VALID)")
        }
        let resolvedCeil = autoPad == "NOTSET" || autoPad == "" ? ceilMode : false
        guard output.allSatisfy({ $0 >= 1 }) else {
            throw Op.shapeError(node, "window \(effective) (kernel \(kernel), dilations \(dilations)) does not fit input \(spatial) with pads \(padsBegin)+\(padsEnd)")
        }
        return WindowGeometry(kernel: kernel, strides: strides, dilations: dilations, padsBegin: padsBegin,
                              padsEnd: padsEnd, ceilMode: resolvedCeil, output: output)
    }
}
