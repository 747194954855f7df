import ArgumentParser

extension SPDYCommand {
    /// Every subcommand, in pipeline order.
    static let stages: [any ParsableCommand.Type] = [
        InspectCommand.self, RunCommand.self, BenchCommand.self, SolveCommand.self, TimeCommand.self,
        DatabaseCommand.self, SearchCommand.self, ApplyCommand.self, PruneCommand.self, DemoCommand.self, TrainCommand.self,
    ]
}
