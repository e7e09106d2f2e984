import UDP
import UDPDNS
import UDPPatterns

/// The DNS machines' tests drive them with UDPPatterns' `MachineHarness`.
extension MachineHarness {
    /// The queries sent so far, decoded.
    var queries: [DNSMessage] { sent.map { try! DNSMessage(decoding: $0.datagram.payload) } }
}

/// What the tests ask.
let testQuestion = DNSQuestion(name: DNSName("www.example.test")!, type: .a)
/// The tests' servers.
let testServer = SocketAddress(IPv4Address(198, 18, 0, 53), port: 53)
let otherServer = SocketAddress(IPv4Address(198, 18, 0, 54), port: 53)

/// The ids a machine seeded with `seed` draws, in order, with no jitter between them.
func seededIDs(_ seed: UInt64, count: Int) -> [UInt16] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in UInt16.random(in: .min ... .max, using: &generator) }
}

/// A reply to `query` as a server writes it (the id and question echoed, QR, AA, RD copied), with one A record.
func answer(to query: DNSMessage, flags: UInt16 = 0x8400) -> DNSMessage {
    let record = DNSRecord(name: query.questions[0].name, ttl: 300, data: .a(IPv4Address(198, 18, 0, 7)))
    var reply = DNSMessage(id: query.id, flags: flags, questions: query.questions, answers: [record])
    reply.recursionDesired = query.recursionDesired
    return reply
}
