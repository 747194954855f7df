/// The shape parameters of a 2-D convolution or pooling window over NCHW data.
public struct ConvGeometry: Sendable, Hashable {
    public var batch: Int, inChannels: Int, inHeight: Int, inWidth: Int
    public var outChannels: Int, kernelHeight: Int, kernelWidth: Int
    public var strideH: Int, strideW: Int
    public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    public var dilationH: Int, dilationW: Int
    public var groups: Int

    public init(batch: Int, inChannels: Int, inHeight: Int, inWidth: Int, outChannels: Int,
                kernelHeight: Int, kernelWidth: Int, strideH: Int = 1, strideW: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0,
                dilationH: Int = 1, dilationW: Int = 1, groups: Int = 1) {
        self.batch = batch; self.inChannels = inChannels; self.inHeight = inHeight; self.inWidth = inWidth
        self.outChannels = outChannels; self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom; self.padRight = padRight
        self.dilationH = dilationH; self.dilationW = dilationW; self.groups = groups
    }

    /// Output height.
    public var outHeight: Int { (inHeight + padTop + padBottom - dilationH * (kernelHeight - 1) - 1) / strideH + 1 }
    /// Output width.
    public var outWidth: Int { (inWidth + padLeft + padRight - dilationW * (kernelWidth - 1) - 1) / strideW + 1 }
    /// Input channels per group.
    public var groupInChannels: Int { inChannels / groups }
    /// Output channels per group.
    public var groupOutChannels: Int { outChannels / groups }
    /// Rows of the unfolded patch matrix per group: C/g · kh · kw.
    public var patchSize: Int { groupInChannels * kernelHeight * kernelWidth }
    /// The geometry of one group: groups = 1 with the group's input and output channels.
    public var oneGroup: ConvGeometry {
        var g = self
        g.groups = 1
        g.inChannels = groupInChannels
        g.outChannels = groupOutChannels
        return g
    }
    /// Whether the convolution is a plain 1×1 product (no im2col needed).
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideH == 1 && strideW == 1 &&
            padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
    }
    /// Whether any side is padded.
    public var hasPadding: Bool { padTop != 0 || padLeft != 0 || padBottom != 0 || padRight != 0 }
    /// Whether each group has one input and one output channel.
    public var isDepthwise: Bool { groups == inChannels && groups == outChannels && groups > 1 }
    /// Multiply-accumulates of the whole convolution.
    public var macs: Int { batch * outChannels * outHeight * outWidth * patchSize }
}
