/// The neural-network family (convolution, pooling, normalisation, matrix products, reductions),
/// registered in `OperatorRegistry`.
let neuralOperators: [any OperatorSemantics.Type] = [
    ConvOp.self,
    BatchNormalizationOp.self, LayerNormalizationOp.self, InstanceNormalizationOp.self,
    GemmOp.self, MatMulOp.self,
    MaxPoolOp.self, AveragePoolOp.self, GlobalAveragePoolOp.self, GlobalMaxPoolOp.self,
    SoftmaxOp.self, LogSoftmaxOp.self,
    ReduceSumOp.self, ReduceMeanOp.self, ReduceMaxOp.self, ReduceMinOp.self, ReduceProdOp.self,
    ReduceL1Op.self, ReduceL2Op.self, ReduceSumSquareOp.self, ReduceLogSumOp.self, ReduceLogSumExpOp.self,
    ArgMaxOp.self, ArgMinOp.self,
]
