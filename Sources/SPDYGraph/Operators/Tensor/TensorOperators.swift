/// The tensor-manipulation family (shape, layout, indexing), registered in `OperatorRegistry`.
let tensorOperators: [any OperatorSemantics.Type] = [
    ReshapeOp.self, FlattenOp.self, TransposeOp.self, SqueezeOp.self, UnsqueezeOp.self,
    ConcatOp.self, ShapeOp.self, SizeOp.self, GatherOp.self, GatherElementsOp.self,
    CastOp.self, CastLikeOp.self, ConstantOp.self, ConstantOfShapeOp.self,
    ExpandOp.self, TileOp.self, SliceOp.self, DropoutOp.self,
    SplitOp.self, RangeOp.self, PadOp.self, ResizeOp.self,
]
