import UDP

extension EchoServer {
    /// Serves every socket until `stop` is requested: `serve` runs once per member, the first on the calling
    /// thread and each other on a thread of its own, and their counters are summed.
    ///
    /// A member whose `serve` fails asks the others to stop, so that the server ends with its error at once
    /// instead of serving on with fewer sockets.
    ///
    /// - Parameters:
    ///   - stop: Ends every member's run; raised here too when one fails.
    ///   - serve: Serves one member until `stop` (a ``Reflector`` or a ``FramedEchoServer`` on its socket), and
    ///     returns its counters.
    ///   - share: Called on the calling thread with each member's counters, in order, once all have ended: how
    ///     the kernel spread the peers (workers) or the addresses asked.
    /// - Returns: The counters of every member, summed.
    /// - Throws: `UDPError`: the first member's failure, in order (after the shares of those before it), or a
    ///   thread that could not start (after the others have stopped).
    public func run(
        until stop: StopSignal,
        serve: @escaping @Sendable (Member) throws(UDPError) -> Reflector.Counters,
        share: (Member, Reflector.Counters) -> Void = { _, _ in }
    ) throws(UDPError) -> Reflector.Counters {
        var threads = WorkerThreads<Result<Reflector.Counters, UDPError>>()
        for member in members.dropFirst() {
            do throws(UDPError) {
                try threads.start { stoppingAllOnFailure(stop) { () throws(UDPError) in try serve(member) } }
            } catch {
                stop.request()
                _ = threads.join()
                throw error
            }
        }
        let mine = stoppingAllOnFailure(stop) { () throws(UDPError) in try serve(members[0]) }
        var total = Reflector.Counters()
        for (member, result) in zip(members, [mine] + threads.join()) {
            let counters = try result.get()
            share(member, counters)
            total = total + counters
        }
        return total
    }
}
