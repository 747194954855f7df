import SPDYGraph
import SPDYTensor

/// What a float initializer is to the model, which decides whether it trains.
public enum ParameterRole: String, Sendable, Codable, CaseIterable, Comparable {
    /// A Conv, Gemm or MatMul weight (the layers SPDY prunes).
    case weight
    /// A Conv or Gemm bias, or a constant added to a Conv/Gemm/MatMul output.
    case bias
    /// BatchNormalization/LayerNormalization/InstanceNormalization scale and bias, and the
    /// scale and shift constants of a LayerNorm exported as elementwise ops.
    case normalization
    /// A Gather table read with integer indices (token, position and type embeddings).
    case embedding
    /// Another non-scalar constant multiplied with or added to an activation.
    case affine
    /// A BatchNormalization running mean or variance: state, never trained by gradient (updated
    /// only in `BatchNormMode.batchStatistics`).
    case statistic

    public static func < (a: ParameterRole, b: ParameterRole) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Which parameters train. By default every parameter of every role except `statistic`;
/// `excluded` names initializers to keep fixed.
public struct ParameterSelection: Sendable, Equatable, Codable {
    /// The roles that train.
    public var roles: Set<ParameterRole>
    /// Initializer names that never train, whatever their role.
    public var excluded: Set<String>

    public init(roles: Set<ParameterRole> = [.weight, .bias, .normalization, .embedding, .affine], excluded: Set<String> = []) {
        self.roles = roles.subtracting([.statistic])
        self.excluded = excluded
    }

    /// Every weight, bias, normalisation, embedding and affine parameter.
    public static let all = ParameterSelection()

    /// Whether `name` with `role` trains.
    public func trains(_ name: String, role: ParameterRole) -> Bool { roles.contains(role) && !excluded.contains(name) }
}

/// Finds the parameters of a graph: the float32 initializers the operators use as weights,
/// biases, normalisation affine parameters, embeddings or running statistics.
///
/// Rules, by consuming operator (ONNX input index): Conv W(1) weight, B(2) bias; Gemm A(0) or
/// B(1) when an initializer: weight, C(2) bias; MatMul either initializer operand: weight;
/// BatchNormalization scale(1) and B(2) normalization, mean(3) and var(4) statistic;
/// LayerNormalization and InstanceNormalization scale(1), B(2) normalization; Gather data(0)
/// embedding. For Add/Sub/Mul/Div with an initializer operand: added to a Conv/Gemm/MatMul output
/// → bias; multiplied with a Div output or added to a Mul by a normalisation parameter (the
/// exported LayerNorm pattern) → normalization; any other non-scalar → affine; scalars (one
/// element: epsilons, 1/√d, GELU's 0.5) never train. An initializer reaches its consumer directly
/// or through Transpose/Reshape/Squeeze/Unsqueeze/Flatten/Identity (weights stored transposed).
/// Integer initializers (shapes, axes, indices) are never parameters.
public enum ParameterDiscovery {
    /// The parameters of `graph` by initializer name, each with its role (the first rule that
    /// applies in node order wins).
    public static func roles(in graph: Graph) -> [String: ParameterRole] {
        let producers = graph.producers
        func node(producing value: String) -> Node? { producers[value].map { graph.nodes[$0] } }
        let passThrough: Set<String> = ["Transpose", "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Identity"]
        /// The float initializer a value comes from, directly or through layout ops.
        func initializer(_ value: String) -> String? {
            var current = value
            for _ in 0..<8 {
                if let t = graph.initializers[current] { return t.dataType == .float32 ? current : nil }
                guard let p = node(producing: current), passThrough.contains(p.opType), let source = p.input(0) else { return nil }
                current = source
            }
            return nil
        }
        var roles: [String: ParameterRole] = [:]
        func assign(_ value: String?, _ role: ParameterRole) {
            guard let value, let name = initializer(value), roles[name] == nil else { return }
            roles[name] = role
        }
        for n in graph.nodes where n.domain.isEmpty || n.domain == "ai.onnx" {
            switch n.opType {
            case "Conv":
                assign(n.input(1), .weight)
                assign(n.input(2), .bias)
            case "Gemm":
                assign(n.input(1), .weight)
                assign(n.input(0), .weight)
                assign(n.input(2), .bias)
            case "MatMul":
                assign(n.input(1), .weight)
                assign(n.input(0), .weight)
            case "BatchNormalization":
                assign(n.input(1), .normalization)
                assign(n.input(2), .normalization)
                assign(n.input(3), .statistic)
                assign(n.input(4), .statistic)
            case "LayerNormalization", "InstanceNormalization":
                assign(n.input(1), .normalization)
                assign(n.input(2), .normalization)
            case "Gather":
                assign(n.input(0), .embedding)
            default: break
            }
        }
        // Elementwise constants, after the layers so a bias's producer is known to be a layer.
        let layers: Set<String> = ["Conv", "Gemm", "MatMul"]
        for n in graph.nodes where ["Add", "Sub", "Mul", "Div"].contains(n.opType) && n.inputs.count == 2 {
            for (k, other) in [(0, 1), (1, 0)] {
                guard let name = initializer(n.inputs[k]), roles[name] == nil, let t = graph.initializers[name] else { continue }
                let source = node(producing: n.inputs[other])
                if n.opType == "Add", let source, layers.contains(source.opType) {
                    roles[name] = .bias
                } else if n.opType == "Mul", source?.opType == "Div", t.count > 1 {
                    roles[name] = .normalization
                } else if n.opType == "Add", let source, source.opType == "Mul",
                          source.inputs.contains(where: { initializer($0).map { roles[$0] == .normalization } ?? false }), t.count > 1 {
                    roles[name] = .normalization
                } else if t.count > 1 {
                    roles[name] = .affine
                }
            }
        }
        return roles
    }
}
