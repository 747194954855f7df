import Testing
@testable import SPDYGraph
import SPDYTensor

/// Direct 2-D convolution formula, written independently of `ReferenceMath.convolution`:
/// y[n,m,oh,ow] = b[m] + Σ_{c,kh,kw} x[n, g·Cg + c, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw] · w[m,c,kh,kw].
private func directConv2d(x: [Float], xs: [Int], w: [Float], ws: [Int], b: [Float]?, s: [Int], p: [Int], d: [Int], group: Int) -> (Tensor) {
    let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3]), (m, cg, kh, kw) = (ws[0], ws[1], ws[2], ws[3])
    let oh = (h + p[0] + p[2] - (kh - 1) * d[0] - 1) / s[0] + 1
    let ow = (wd + p[1] + p[3] - (kw - 1) * d[1] - 1) / s[1] + 1
    var y = [Float](repeating: 0, count: n * m * oh * ow)
    for i in 0..<n { for o in 0..<m { for r in 0..<oh { for q in 0..<ow {
        let g = o / (m / group)
        var acc = b.map { Double($0[o]) } ?? 0
        for ci in 0..<cg { for u in 0..<kh { for v in 0..<kw {
            let ih = r * s[0] - p[0] + u * d[0], iw = q * s[1] - p[1] + v * d[1]
            guard ih >= 0, ih < h, iw >= 0, iw < wd else { continue }
            acc += Double(x[((i * c + g * cg + ci) * h + ih) * wd + iw]) * Double(w[((o * cg + ci) * kh + u) * kw + v])
        }}}
        y[((i * m + o) * oh + r) * ow + q] = Float(acc)
    }}}}
    return Tensor(shape: [n, m, oh, ow], floats: y)
}

@Suite("Conv")
struct ConvTests {
    @Test func oneChannel3x3ByHand() throws {
        let x = nnIota([1, 1, 3, 3])  // 1…9
        let w = Tensor(shape: [1, 1, 2, 2], floats: [1, 0, 0, 1])
        let y = try nnEvaluate(nnNode("Conv", inputs: 2), [x, w])[0]
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.floats == [6, 8, 12, 14])
        // With bias and the same kernel given explicitly.
        let yb = try nnEvaluate(nnNode("Conv", inputs: 3, ["kernel_shape": .ints([2, 2])]),
                                [x, w, Tensor(shape: [1], floats: [0.5])])[0]
        #expect(yb.floats == [6.5, 8.5, 12.5, 14.5])
    }

    @Test func paddedBoxFilterByHand() throws {
        let x = nnIota([1, 1, 3, 3])
        let w = Tensor(shape: [1, 1, 3, 3], floats: [Float](repeating: 1, count: 9))
        let y = try nnEvaluate(nnNode("Conv", inputs: 2, ["pads": .ints([1, 1, 1, 1])]), [x, w])[0]
        #expect(y.shape == [1, 1, 3, 3])
        #expect(y.floats == [12, 21, 16, 27, 45, 33, 24, 39, 28])
    }

    @Test(arguments: [
        // (group, strides, pads t,l,b,r, dilations)
        (1, [1, 1], [0, 0, 0, 0], [1, 1]),
        (1, [2, 2], [1, 2, 0, 1], [1, 1]),
        (2, [1, 2], [1, 1, 1, 1], [2, 1]),
        (4, [3, 1], [2, 0, 1, 2], [1, 2]),
    ])
    func matchesDirectFormula(group: Int, strides: [Int], pads: [Int], dilations: [Int]) throws {
        let xs = [2, 4, 7, 6], ws = [8, 4 / group, 3, 2]
        let x = nnRandom(xs.reduce(1, *), seed: 1), w = nnRandom(ws.reduce(1, *), seed: 2), b = nnRandom(8, seed: 3)
        let node = nnNode("Conv", inputs: 3, ["group": .int(group), "strides": .ints(strides),
                                              "pads": .ints(pads), "dilations": .ints(dilations)])
        let y = try nnEvaluate(node, [Tensor(shape: xs, floats: x), Tensor(shape: ws, floats: w), Tensor(shape: [8], floats: b)])[0]
        let expected = directConv2d(x: x, xs: xs, w: w, ws: ws, b: b, s: strides, p: pads, d: dilations, group: group)
        #expect(y.shape == expected.shape)
        #expect(nnClose(y.floats, expected.floats))
        // The public 2-D wrapper agrees.
        let z = ReferenceMath.conv2d(input: Tensor(shape: xs, floats: x), weight: Tensor(shape: ws, floats: w),
                                     bias: Tensor(shape: [8], floats: b), strides: (strides[0], strides[1]),
                                     pads: (pads[0], pads[1], pads[2], pads[3]), dilations: (dilations[0], dilations[1]), group: group)
        #expect(z == y)
    }

    @Test func autoPad() throws {
        let x = Tensor(shape: [1, 1, 5, 5], floats: nnRandom(25, seed: 4))
        let w = Tensor(shape: [1, 1, 2, 2], floats: nnRandom(4, seed: 5))
        for (mode, pads) in [("SAME_UPPER", [0, 0, 1, 1]), ("SAME_LOWER", [1, 1, 0, 0])] {
            let y = try nnEvaluate(nnNode("Conv", inputs: 2, ["auto_pad": .string(mode)]), [x, w])[0]
            let e = directConv2d(x: x.floats, xs: x.shape, w: w.floats, ws: w.shape, b: nil, s: [1, 1], p: pads, d: [1, 1], group: 1)
            #expect(y.shape == [1, 1, 5, 5])
            #expect(nnClose(y.floats, e.floats))
        }
        // SAME with stride 2: output ceil(5/2) = 3, total pad (3−1)·2 + 2 − 5 = 1.
        let s = try nnEvaluate(nnNode("Conv", inputs: 2, ["auto_pad": .string("SAME_UPPER"), "strides": .ints([2, 2])]), [x, w])[0]
        #expect(s.shape == [1, 1, 3, 3])
        let v = try nnEvaluate(nnNode("Conv", inputs: 2, ["auto_pad": .string("VALID"), "strides": .ints([2, 2])]), [x, w])[0]
        #expect(v.shape == [1, 1, 2, 2])
    }

    @Test func oneDimensional() throws {
        let x = Tensor(shape: [1, 1, 5], floats: [1, 2, 3, 4, 5])
        let w = Tensor(shape: [1, 1, 3], floats: [1, 0, -1])
        let y = try nnEvaluate(nnNode("Conv", inputs: 2, ["pads": .ints([1, 1])]), [x, w])[0]
        #expect(y.shape == [1, 1, 5])
        #expect(y.floats == [-2, -2, -2, -2, 4])
    }

    @Test func errors() throws {
        let x = ValueType(.float32, [1, 4, 5, 5])
        // Wrong weight rank.
        #expect(throws: GraphError.self) { try nnInfer(nnNode("Conv", inputs: 2), [x, ValueType(.float32, [2, 4, 3])]) }
        // Channels do not match the group.
        #expect(throws: GraphError.self) {
            try nnInfer(nnNode("Conv", inputs: 2, ["group": .int(2)]), [x, ValueType(.float32, [2, 4, 3, 3])])
        }
        // Output channels not divisible by group.
        #expect(throws: GraphError.self) {
            try nnInfer(nnNode("Conv", inputs: 2, ["group": .int(2)]), [x, ValueType(.float32, [3, 2, 3, 3])])
        }
        // kernel_shape contradicts W; bias of the wrong length; window larger than the input.
        #expect(throws: GraphError.self) {
            try nnInfer(nnNode("Conv", inputs: 2, ["kernel_shape": .ints([2, 2])]), [x, ValueType(.float32, [2, 4, 3, 3])])
        }
        #expect(throws: GraphError.self) {
            try nnInfer(nnNode("Conv", inputs: 3), [x, ValueType(.float32, [2, 4, 3, 3]), ValueType(.float32, [3])])
        }
        #expect(throws: GraphError.self) { try nnInfer(nnNode("Conv", inputs: 2), [x, ValueType(.float32, [2, 4, 6, 6])]) }
        // Bad attribute lengths / values.
        #expect(throws: GraphError.self) {
            try nnInfer(nnNode("Conv", inputs: 2, ["pads": .ints([1, 1])]), [x, ValueType(.float32, [2, 4, 3, 3])])
        }
        #expect(throws: GraphError.self) {
            try nnInfer(nnNode("Conv", inputs: 2, ["strides": .ints([0, 1])]), [x, ValueType(.float32, [2, 4, 3, 3])])
        }
        #expect(throws: GraphError.self) {
            try nnInfer(nnNode("Conv", inputs: 2, ["auto_pad": .string("SAME")]), [x, ValueType(.float32, [2, 4, 3, 3])])
        }
        // Missing weight; integer input.
        #expect(throws: GraphError.self) { try nnInfer(nnNode("Conv", inputs: 2), [x, nil]) }
        #expect(throws: GraphError.self) { try nnInfer(nnNode("Conv", inputs: 2), [ValueType(.int64, [1, 4, 5, 5]), ValueType(.float32, [2, 4, 3, 3])]) }
    }
}
