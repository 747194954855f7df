import SPDYGraph
import SPDYKernels

extension ConvGeometry {
    /// The geometry of a 2-D `Conv` node (`strides`, `pads`, `dilations`, `auto_pad`, `group`)
    /// for an NCHW input of shape `input` and an OIHW weight of shape `weight`; `nil` for
    /// convolutions that are not 2-D or whose channels do not divide into the groups.
    public init?(node: Node, input: [Int], weight: [Int]) throws {
        guard input.count == 4, weight.count == 4 else { return nil }
        let groups = try node.int("group", default: 1)
        guard groups > 0, input[1] % groups == 0, weight[1] * groups == input[1], weight[0] % groups == 0 else { return nil }
        let kernel = [weight[2], weight[3]]
        let strides = try node.ints("strides", default: [1, 1]) ?? [1, 1]
        let dilations = try node.ints("dilations", default: [1, 1]) ?? [1, 1]
        var pads = try node.ints("pads", default: [0, 0, 0, 0]) ?? [0, 0, 0, 0]
        guard strides.count == 2, dilations.count == 2, pads.count == 4 else { return nil }
        let autoPad = try node.string("auto_pad", default: "NOTSET")
        if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
            for axis in 0..<2 {
                let size = input[2 + axis]
                let out = (size + strides[axis] - 1) / strides[axis]
                let total = max(0, (out - 1) * strides[axis] + (kernel[axis] - 1) * dilations[axis] + 1 - size)
                let small = total / 2, large = total - small
                pads[axis] = autoPad == "SAME_UPPER" ? small : large
                pads[axis + 2] = autoPad == "SAME_UPPER" ? large : small
            }
        } else if autoPad == "VALID" {
            pads = [0, 0, 0, 0]
        }
        self.init(batch: input[0], inChannels: input[1], inHeight: input[2], inWidth: input[3],
                  outChannels: weight[0], kernelHeight: kernel[0], kernelWidth: kernel[1],
                  strideH: strides[0], strideW: strides[1], padTop: pads[0], padLeft: pads[1],
                  padBottom: pads[2], padRight: pads[3], dilationH: dilations[0], dilationW: dilations[1],
                  groups: groups)
    }
}
