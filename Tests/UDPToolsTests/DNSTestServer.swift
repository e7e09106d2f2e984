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
