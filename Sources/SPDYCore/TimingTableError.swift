import Foundation

/// A timing table that could not be loaded: every problem found, in file order.
public struct TimingTableError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The problems, at least one.
    public var issues: [TimingTableIssue]

    /// Creates the error from its issues.
    public init(issues: [TimingTableIssue]) { self.issues = issues }

    /// One issue per line, headed by the count.
    public var description: String {
        let head = issues.count == 1 ? "invalid timing table:" : "invalid timing table (\(issues.count) problems):"
        return ([head] + issues.map { "  " + $0.description }).joined(separator: "\n")
    }
}

/// Formats a sparsity with 4 decimals, the way the reference's files print it.
func format4(_ value: Double) -> String { String(format: "%.4f", value) }
