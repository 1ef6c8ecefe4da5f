import ArgumentParser

/// Runs the load generator with parsed flags and prints the report; used by both
/// `turnpike-bench` and `turnpike bench`.
public enum BenchCommand {
    public static let abstract = "Load-test an HTTP API: HTTP/1.1 or HTTP/2, TLS, closed or open loop."
    public static let discussion = """
        Closed loop (default): every connection sends its next request as soon as the previous \
        answer arrives (-p to pipeline, -m streams with --h2). Open loop (--rate R): R requests/s \
        on a fixed schedule; latency counts from each request's intended send time, so a server \
        stall shows in the percentiles instead of slowing the load down.
        Examples:
          turnpike-bench -c 50 -d 10s --warmup 2s http://127.0.0.1:8080/pets/1
          turnpike-bench --h2 -m 10 -k -R 20000 -d 30s https://127.0.0.1:8443/
          turnpike-bench --url-file mix.txt --vary-header x-api-key --vary-file keys.txt -n 100000 --json http://127.0.0.1:8080/
        """

    public static func run(_ options: BenchOptions) throws {
        let plan: BenchPlan
        let result: BenchResult
        do {
            plan = try BenchPlan(options)
            result = try BenchRun(options: options, plan: plan).run()
        } catch let error as BenchError {
            throw ValidationError(error.description)
        }
        print(options.json ? result.json(options, plan) : result.text(options, plan))
    }
}
