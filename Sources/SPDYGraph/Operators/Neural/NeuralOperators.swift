/// The neural-network family (convolution, pooling, normalisation, matrix products, reductions),
/// registered in `OperatorRegistry`.
let neuralOperators: [any OperatorSemantics.Type] = []
