import ArgumentParser
import TurnpikeBench

/// `turnpike-bench`: the load generator on its own (the same as `turnpike bench`).
@main
struct TurnpikeBenchMain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "turnpike-bench",
        abstract: BenchCommand.abstract,
        discussion: BenchCommand.discussion
    )

    @OptionGroup var options: BenchOptions

    func run() throws { try BenchCommand.run(options) }
}
