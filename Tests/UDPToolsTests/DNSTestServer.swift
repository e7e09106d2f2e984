import UDP
import UDPDNS
import UDPTools

/// A DNS server that a test scripts: a socket on 127.0.0.1, port 0, whose `script` runs on a thread of its own
/// while `test` queries it at `address`; the script's result (or error) comes back when both are done.
func withScriptedDNSServer<Value: Sendable>(
    serving script: @escaping @Sendable (SharedUDPSocket) throws -> Value,
    test: (SocketAddress) throws -> Void
) throws -> Value {
    let socket = SharedUDPSocket(try UDPSocket(bindingTo: .loopbackV4(port: 0)))
    let address = try socket.socket.localAddress
    let result: Result<Value, any Error> = try withEngine(
        { _ in Result { try script(socket) } },
        test: { try test(address) }
    )
    return try result.get()
}

struct NoQuery: Error {}

/// The next query that reaches `socket` within 5 seconds, and where it came from.
func receiveQuery(on socket: SharedUDPSocket) throws -> (query: DNSMessage, client: SocketAddress) {
    guard let datagram = try socket.socket.receive(timeout: .seconds(5)) else { throw NoQuery() }
    return (try DNSMessage(decoding: datagram.payload), datagram.sender)
}

/// A reply to `query` with `answers`, as a server writes it: the id and question echoed, QR, AA, RD copied.
func reply(to query: DNSMessage, answers: [DNSRecord], responseCode: UInt16 = 0) -> DNSMessage {
    var reply = DNSMessage(id: query.id, flags: 0x8400 | responseCode, questions: query.questions, answers: answers)
    reply.recursionDesired = query.recursionDesired
    return reply
}

/// `name 300 IN A address`.
func aRecord(_ name: String, _ address: String) -> DNSRecord {
    DNSRecord(name: DNSName(name)!, ttl: 300, data: .a(IPv4Address(address)!))
}

/// Runs `query` as `udp dns` does: `MachineDriver` on one socket per try, each on a port of the kernel's
/// choosing with its error queue on. Returns how it ended (nil when stopped first) and each socket's address.
func runQuery(
    _ query: inout DNSStubQuery,
    until stop: StopSignal,
    onEvent: (DNSStubQuery.Event) -> Void = { _ in }
) throws -> (outcome: DNSStubQuery.Outcome?, sources: [SocketAddress]) {
    let sockets = try querySockets(query.socketsNeeded, for: query.server)
    try MachineDriver(stop: stop).run(&query, on: sockets, onEvent: onEvent)
    if case .sendFailed(let error, _)? = query.outcome { throw error }
    return (query.outcome, try sockets.map { try $0.socket.localAddress })
}

/// Runs `session` as `udp dns --count` does and sums it up as the command does, round trips by this process's
/// clock.
func runProbe(
    _ session: inout DNSPingSession,
    until stop: StopSignal,
    onEvent: (DNSPingSession.Event) -> Void = { _ in }
) throws -> LatencySummary {
    let sockets = try querySockets(DNSPingSession.socketCount, for: session.server)
    var latency = LatencyRecorder(highest: session.timeout)
    let started = MonotonicInstant.now()
    let ending = try MachineDriver(stop: stop).run(&session, on: sockets) { event in
        if case .answered(_, let answer) = event {
            latency.record(answer.roundTrip)
        }
        onEvent(event)
    }
    if ending == .stopped { session.stop() }
    if let failure = session.sendFailure { throw failure }
    var counts = ProbeCounts()
    counts.sent = session.sent
    counts.received = session.received
    counts.lost = session.lost
    return LatencySummary(
        counts: counts,
        foreign: session.ignored.total,
        icmpErrors: session.icmpErrors,
        latency: latency,
        timestamps: PingSession.Timestamps.user.rawValue,
        duration: started.duration(to: .now()),
        payloadSize: session.querySize
    )
}

/// `count` sockets on ports of the kernel's choosing, in `server`'s family, reading their error queues.
func querySockets(_ count: Int, for server: SocketAddress) throws -> [SharedUDPSocket] {
    try (0..<count).map { _ in
        let socket = SharedUDPSocket(try UDPSocket(bindingTo: .any(server.family)))
        try? socket.socket.setReceiveErrors(true)
        return socket
    }
}
