import SPDYGraph

/// The geometry of a 2-D sliding window (Conv, MaxPool, AveragePool) over NCHW data. 1-D
/// operators are run as 2-D with a height of 1.
///
/// Output sizes come from static analysis (`SPDYGraph`'s operator semantics own the formulas,
/// including `ceil_mode`); this resolves the padding the window starts with, from `pads` or
/// `auto_pad` as the ONNX operator documentation specifies.
struct WindowShape: Equatable {
    var batch: Int, channels: Int
    var inHeight: Int, inWidth: Int
    var outHeight: Int, outWidth: Int
    var kernelHeight: Int, kernelWidth: Int
    var strideH: Int, strideW: Int
    var dilationH: Int, dilationW: Int
    var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int

    /// Input positions per plane.
    var inPlane: Int { inHeight * inWidth }
    /// Output positions per plane.
    var outPlane: Int { outHeight * outWidth }
    /// Taps per window.
    var taps: Int { kernelHeight * kernelWidth }

    /// Resolves the window of `spec`'s node for input 0 of shape [N, C, spatial…] (rank 3 or 4),
    /// a `kernel` of one or two sizes and the output spatial sizes `output`.
    init(_ spec: KernelSpec, input: [Int], kernel: [Int], output: [Int], dilations allowDilations: Bool = true) throws {
        let node = spec.node
        guard input.count == 3 || input.count == 4, kernel.count == input.count - 2, output.count == kernel.count else {
            throw spec.unsupported("only 1-D and 2-D windows are supported (input \(input), kernel \(kernel))")
        }
        let r = kernel.count
        func list(_ name: String, _ fallback: Int, count: Int) throws -> [Int] {
            let v = try node.ints(name) ?? [Int](repeating: fallback, count: count)
            guard v.count == count else { throw spec.unsupported("attribute \(name) \(v) needs \(count) values") }
            return v
        }
        let strides = try list("strides", 1, count: r)
        let dilations = allowDilations ? try list("dilations", 1, count: r) : [Int](repeating: 1, count: r)
        let spatial = Array(input[2...])
        var begin = [Int](repeating: 0, count: r), end = begin
        let autoPad = try node.string("auto_pad", default: "NOTSET")
        switch autoPad {
        case "NOTSET", "":
            let pads = try list("pads", 0, count: 2 * r)
            begin = Array(pads[..<r])
            end = Array(pads[r...])
        case "VALID": break
        case "SAME_UPPER", "SAME_LOWER":
            for d in 0..<r {
                let out = (spatial[d] + strides[d] - 1) / strides[d]
                let total = max(0, (out - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 - spatial[d])
                begin[d] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
                end[d] = total - begin[d]
            }
        default:
            throw spec.unsupported("unknown auto_pad '\(autoPad)'")
        }
        // 1-D: a height of 1 with a one-row window.
        func at(_ values: [Int], _ d: Int, _ oneD: Int) -> Int { r == 1 ? (d == 0 ? oneD : values[0]) : values[d] }
        batch = input[0]
        channels = input[1]
        inHeight = at(spatial, 0, 1); inWidth = at(spatial, 1, 1)
        outHeight = at(output, 0, 1); outWidth = at(output, 1, 1)
        kernelHeight = at(kernel, 0, 1); kernelWidth = at(kernel, 1, 1)
        strideH = at(strides, 0, 1); strideW = at(strides, 1, 1)
        dilationH = at(dilations, 0, 1); dilationW = at(dilations, 1, 1)
        padTop = at(begin, 0, 0); padLeft = at(begin, 1, 0)
        padBottom = at(end, 0, 0); padRight = at(end, 1, 0)
    }

    /// Whether the window is a plain 1×1, stride-1, unpadded product.
    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 &&
            outHeight == inHeight && outWidth == inWidth
    }
}
