/// The tensor-manipulation family (shape, layout, indexing), registered in `OperatorRegistry`.
let tensorOperators: [any OperatorSemantics.Type] = []
