import ArgumentParser

/// The `spdy` command: one subcommand per pipeline stage.
public struct SPDYCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "spdy",
        abstract: "SPDY: accurate pruning with speedup guarantees.",
        subcommands: SPDYCommand.stages)

    public init() {}
}

extension SPDYCommand {
    /// Runs the command line, first making sure OpenBLAS uses this CPU's vector kernels.
    public static func start() {
        BLASCoreSelection.ensure()
        main()
    }
}
