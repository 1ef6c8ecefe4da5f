import ArgumentParser
import TurnpikeBench
import TurnpikeConfig
import TurnpikeServer

#if canImport(Glibc)
import Glibc
#endif

/// The `turnpike` command line.
@main
struct Turnpike: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "turnpike",
        abstract: "A self-hosted API gateway that behaves like AWS API Gateway.",
        discussion: """
            Turnpike serves HTTP APIs described in one YAML or JSON file that uses API Gateway's \
            own field names (apis, routes, integrations, stages, target groups, domain names).
            Start with:  turnpike serve --config examples/turnpike.yaml
            """,
        subcommands: [Serve.self, Validate.self, Bench.self]
    )
}

/// `turnpike serve`: run the gateway until SIGTERM/SIGINT.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the APIs in a configuration file.",
        discussion: """
            SIGHUP (or POST /admin/reload on the admin listener) reloads the file; a file with \
            errors is refused and the running configuration keeps serving. SIGTERM stops \
            accepting, lets in-flight requests finish (settings.drainTimeoutSeconds), and exits 0.
            """
    )

    @Option(name: .shortAndLong, help: "The configuration file (YAML or JSON).")
    var config: String

    @Option(name: .shortAndLong, help: "Worker threads, each with its own event loop (default: settings.workers, else one per core).")
    var workers: Int?

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
    }

    func run() throws {
        let server: GatewayServer
        do {
            server = try GatewayServer(configPath: config, workers: workers)
        } catch let error as ConfigError {
            printError(error.description)
            throw ExitCode(2)
        } catch {
            printError("turnpike: \(error)")
            throw ExitCode(2)
        }
        do {
            try server.run()
        } catch {
            printError("turnpike: \(error)")
            throw ExitCode(1)
        }
    }
}

/// `turnpike validate`: check a file without serving it.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a configuration file and print every problem found.",
        discussion: "Exits 0 when the file is valid, 2 when it is not."
    )

    @Argument(help: "The configuration file (YAML or JSON).")
    var file: String

    func run() throws {
        do {
            let config = try ConfigLoader.load(path: file)
            _ = try GatewayServer.compile(config)
            print("\(file): valid (\(config.apis.count) api(s), \(config.targetGroups.count) target group(s), \(config.listeners.count) listener(s))")
        } catch let error as ConfigError {
            printError(error.description)
            throw ExitCode(2)
        } catch {
            printError("\(file): \(error)")
            throw ExitCode(2)
        }
    }
}

func printError(_ text: String) {
    let line = text.hasSuffix("\n") ? text : text + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

/// `turnpike bench`: the bundled load generator (the same as `turnpike-bench`).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: BenchCommand.abstract,
        discussion: BenchCommand.discussion
    )

    @OptionGroup var options: BenchOptions

    func run() throws { try BenchCommand.run(options) }
}
