import SPDYGraph

/// How a prunable layer's weight tensor maps to the matrix reconstruction works on: one row per
/// output unit, one column per input of that unit, row-major.
///
/// - Conv (OIHW): rows = O, columns = (C/groups)·kh·kw; the tensor's own order. Rows form
///   `groups` equal blocks, each reading its own input channels (its own Hessian).
/// - Gemm with `transB = 1` (`[N, K]`): the tensor's own order.
/// - Gemm with `transB = 0` and MatMul (`[K, N]`): the transpose.
public struct WeightLayout: Sendable, Hashable {
    /// Output units.
    public var rows: Int
    /// Inputs per output unit.
    public var columns: Int
    /// Blocks of rows with their own inputs (Conv `group`); 1 for Linear layers.
    public var groups: Int
    /// Whether the tensor stores the matrix transposed (`[columns, rows]`).
    public var isTransposed: Bool

    /// Rows per group.
    public var rowsPerGroup: Int { rows / groups }
    /// The number of weights.
    public var count: Int { rows * columns }

    /// Creates a layout.
    public init(rows: Int, columns: Int, groups: Int = 1, isTransposed: Bool = false) {
        precondition(rows > 0 && columns > 0 && groups > 0 && rows % groups == 0, "invalid weight layout")
        self.rows = rows
        self.columns = columns
        self.groups = groups
        self.isTransposed = isTransposed
    }

    /// The layout of `layer`'s weight in `graph`.
    public init(layer: PrunableLayer, graph: Graph) throws {
        let shape = layer.weightShape
        switch layer.opType {
        case "Conv":
            guard shape.count >= 3, let node = graph.nodes.first(where: { $0.name == layer.node }) else {
                throw PruningError.unsupportedLayer(layer: layer.id, reason: "Conv weight of rank \(shape.count)")
            }
            let groups = try node.int("group", default: 1)
            guard groups >= 1, shape[0] % groups == 0 else {
                throw PruningError.unsupportedLayer(layer: layer.id, reason: "\(shape[0]) output channels in \(groups) groups")
            }
            self.init(rows: shape[0], columns: shape.dropFirst().reduce(1, *), groups: groups)
        case "Gemm":
            guard let node = graph.nodes.first(where: { $0.name == layer.node }), shape.count == 2 else {
                throw PruningError.unsupportedLayer(layer: layer.id, reason: "Gemm weight of rank \(shape.count)")
            }
            let transB = try node.int("transB", default: 0) != 0
            self.init(rows: transB ? shape[0] : shape[1], columns: transB ? shape[1] : shape[0], isTransposed: !transB)
        default:
            guard shape.count == 2 else {
                throw PruningError.unsupportedLayer(layer: layer.id, reason: "\(layer.opType) weight of rank \(shape.count)")
            }
            self.init(rows: shape[1], columns: shape[0], isTransposed: true)
        }
    }

    /// The flat index in the tensor of matrix element (`row`, `column`).
    @inlinable
    public func tensorIndex(row: Int, column: Int) -> Int {
        isTransposed ? column * rows + row : row * columns + column
    }

    /// The matrix (row-major) of a tensor's elements.
    public func matrix<T>(fromTensorOrder values: [T]) -> [T] {
        precondition(values.count == count, "\(values.count) values for a \(rows)×\(columns) weight")
        guard isTransposed else { return values }
        var result = values
        for r in 0..<rows { for c in 0..<columns { result[r * columns + c] = values[c * rows + r] } }
        return result
    }

    /// The tensor's elements (its own order) of a row-major matrix.
    public func tensorOrder<T>(fromMatrix values: [T]) -> [T] {
        precondition(values.count == count, "\(values.count) values for a \(rows)×\(columns) weight")
        guard isTransposed else { return values }
        var result = values
        for r in 0..<rows { for c in 0..<columns { result[c * rows + r] = values[r * columns + c] } }
        return result
    }
}
