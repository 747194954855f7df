import ArgumentParser

extension SPDYCommand {
    /// Every subcommand, in pipeline order.
    static let stages: [any ParsableCommand.Type] = [SolveCommand.self]
}
