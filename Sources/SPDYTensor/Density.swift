/// How much of a weight survives pruning: the fraction of values that are not zero.
public enum Density {
    /// Fraction of `values` that are not zero (1 for none: an empty weight is not sparse).
    public static func of(_ values: [Float]) -> Double {
        values.isEmpty ? 1 : Double(values.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }) / Double(values.count)
    }
}
