@testable import SPDYGraph
import SPDYTensor
import Testing

/// Hostile sizes from a model must produce GraphErrors, never traps.
@Suite("Tensor operators: hostile model data")
struct TensorOperatorRobustnessTests {
    let x = iota([2, 3])

    @Test func overflowingSizesThrow() throws {
        #expect(throws: GraphError.self) { try evaluated(ReshapeOp.self, [x, i64(int64Max, int64Max, -1)]) }
        #expect(throws: GraphError.self) { try evaluated(ReshapeOp.self, [x, i64(int64Max, 2)]) }
        #expect(throws: GraphError.self) { try evaluated(TileOp.self, [x, i64(int64Max, 2)]) }
        #expect(throws: GraphError.self) { try evaluated(PadOp.self, [x, i64(int64Max, 0, int64Max, 0)]) }
        #expect(throws: GraphError.self) { try evaluated(SplitOp.self, [x, i64(int64Max, int64Max)], outputs: 2, opset: 13) }
        #expect(throws: GraphError.self) { try evaluated(ExpandOp.self, [x, i64(int64Max, 1, 1)]) }
        #expect(throws: GraphError.self) { try evaluated(ConstantOfShapeOp.self, [i64(int64Max, int64Max)]) }
        #expect(throws: GraphError.self) {
            try evaluated(RangeOp.self, [Tensor(scalar: 0), Tensor(scalar: 3e38), Tensor(scalar: 1e-38)])
        }
        #expect(throws: GraphError.self) {
            try evaluated(ResizeOp.self, [x, nil, Tensor(shape: [2], floats: [1, 1e30])])
        }
    }

    @Test func degenerateButValidInputsWork() throws {
        // A descending float range with an infinite length toward -∞ is empty, not a trap.
        let empty = try checked1(RangeOp.self, [Tensor(scalar: 0), Tensor(scalar: -3e38), Tensor(scalar: 1e-38)], runtime: [])
        #expect(empty.shape == [0])
        // Sizes 2 → 3, asymmetric: coordinates 0, 2/3, 4/3 round (prefer floor) to 0, 1, 1.
        let tiny = try checked1(ResizeOp.self, [Tensor(shape: [2], floats: [1, 2]), nil, nil, i64(3)],
                                ["coordinate_transformation_mode": .string("asymmetric")])
        #expect(tiny.floats == [1, 2, 2])
        #expect(try checked1(SliceOp.self, [Tensor(zeros: [0]), i64(0), i64(-1), nil, i64(-1)]).shape == [0])
    }
}
