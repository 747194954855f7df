import ArgumentParser

/// The `spdy` command: one subcommand per pipeline stage.
public struct SPDYCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "spdy",
        abstract: "SPDY: accurate pruning with speedup guarantees.",
        subcommands: SPDYCommand.stages)

    public init() {}
}
