import UDP
import UDPTools

/// Starts one thread per plan (an address family and its interfaces) for `discover` and `announce`, each running
/// `session` on what `open` made for it. Every plan's sockets are opened first, so that a port in use or a
/// failed join is reported before anything is sent; and one thread failing stops the others too, rather than
/// leaving them running without a word.
func startPerFamily<Plan: Sendable, Resources: Sendable>(
    _ plans: [Plan],
    stop: StopSignal,
    threads: inout WorkerThreads<Result<Void, UDPError>>,
    open: (Plan) throws(UDPError) -> Resources,
    session: @escaping @Sendable (Plan, Resources) throws(UDPError) -> Void
) throws {
    var opened: [Resources] = []
    for plan in plans { opened.append(try open(plan)) }
    for (plan, resources) in zip(plans, opened) {
        try threads.start {
            stoppingAllOnFailure(stop) { () throws(UDPError) in try session(plan, resources) }
        }
    }
}
