import UDP
import UDPDNS
import UDPPatterns

/// A driver for the DNS machines' tests, with a fake clock: it takes what a machine sends (reporting each
/// datagram sent, as the driver does) and its events, and keeps them for the test to read.
struct DNSMachineHarness<Machine: DatagramMachine> {
    var machine: Machine
    var now = MonotonicInstant.zero
    /// Every datagram sent so far, with its instant.
    var sent: [(datagram: OutboundDatagram, at: MonotonicInstant)] = []
    /// Every event so far.
    var events: [Machine.Event] = []

    init(_ machine: Machine) {
        self.machine = machine
        drain()
    }

    /// The queries sent so far, decoded.
    var queries: [DNSMessage] { sent.map { try! DNSMessage(decoding: $0.datagram.payload) } }

    /// Sends what the machine has now and takes its events, as the driver does after every input.
    mutating func drain() {
        while let datagram = machine.pollTransmit(at: now) {
            sent.append((datagram, now))
            machine.handleSendReport(
                .sent(datagram, socket: datagram.socket, sentAt: WallClockTime(nanosecondsSince1970: 0), stampID: 0),
                at: now
            )
        }
        while let event = machine.pollEvent() { events.append(event) }
    }

    /// Moves the clock to `instant`, firing every deadline on the way as the driver would.
    mutating func advance(to instant: MonotonicInstant) {
        while let due = machine.nextDeadline, due <= instant, !machine.isFinished {
            now = max(now, due)
            machine.handleTimeout(at: now)
            drain()
        }
        now = max(now, instant)
    }

    /// Moves the clock on by `duration`.
    mutating func advance(by duration: Duration) { advance(to: now + duration) }

    /// A datagram from `sender` on socket `socket`, now.
    mutating func receive(_ bytes: [UInt8], from sender: SocketAddress, socket: Int = 0) {
        machine.handleDatagram(InboundDatagram(bytes, from: sender, socket: socket), at: now)
        drain()
    }

    /// An ICMP error on socket `socket`, now.
    mutating func deliver(_ error: DeliveryError, socket: Int = 0) {
        machine.handleDeliveryError(error, socket: socket, at: now)
        drain()
    }
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

/// A port unreachable from `offender` about a datagram to `destination`, quoting `quote`.
func unreachable(_ destination: SocketAddress, quoting quote: [UInt8]) -> DeliveryError {
    DeliveryError(
        origin: .icmp,
        kind: .portUnreachable,
        errno: .connectionRefused,
        type: 3,
        code: 3,
        offender: destination.ip,
        destination: destination,
        quotedPayload: quote
    )
}
