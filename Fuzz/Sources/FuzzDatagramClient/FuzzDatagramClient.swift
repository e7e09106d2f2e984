import FuzzDriver
import FuzzMachine
import UDP
import UDPPatterns
import UDPTools

/// `udp send`'s clients, one message after another (a new one as each ends, up to eight), with what they were
/// handed counted beside them, so the check can add their counts up.
struct SerialClients: DatagramMachine {
    enum Client {
        case plain(DatagramClient)
        case framed(FramedClient)
    }

    var client: Client
    let policy: RetryPolicy
    var messages = 1
    var sentThisMessage = 0
    var datagrams = 0

    init(mode: UInt8, destination: SocketAddress) {
        policy = RetryPolicy(attempts: 3, timeout: .milliseconds(200), backoff: 2, deadline: .seconds(1), jitter: .full)
        switch mode % 3 {
        case 0:
            var plain = DatagramClient(destination: destination, policy: policy, generator: SeededGenerator(seed: 1))
            plain.send([1, 2, 3])
            client = .plain(plain)
        case 1:
            var plain = DatagramClient(
                destination: destination,
                manyRepliers: true,
                policy: policy,
                generator: SeededGenerator(seed: 2)
            )
            plain.send([4])
            client = .plain(plain)
        default:
            var framed = FramedClient(destination: destination, policy: policy, generator: SeededGenerator(seed: 3))
            try! framed.start([5, 6], at: .zero + .seconds(1))
            client = .framed(framed)
        }
    }

    /// Starts the next message when the last one ended.
    private mutating func next(at now: MonotonicInstant) {
        guard innerFinished, messages < 8 else { return }
        messages += 1
        sentThisMessage = 0
        switch client {
        case .plain(var plain):
            plain.send([UInt8(messages)], expectReply: messages % 4 != 0)
            client = .plain(plain)
        case .framed(var framed):
            try! framed.start([UInt8(messages)], at: now)
            client = .framed(framed)
        }
    }

    var innerFinished: Bool {
        switch client {
        case .plain(let plain): plain.isFinished
        case .framed(let framed): framed.isFinished
        }
    }

    private mutating func with(_ body: (inout DatagramClient) -> Void, _ framedBody: (inout FramedClient) -> Void) {
        switch client {
        case .plain(var plain):
            body(&plain)
            client = .plain(plain)
        case .framed(var framed):
            framedBody(&framed)
            client = .framed(framed)
        }
    }

    mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        datagrams += 1
        with({ $0.handleDatagram(datagram, at: now) }, { $0.handleDatagram(datagram, at: now) })
        next(at: now)
    }

    mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        with(
            { $0.handleDeliveryError(error, socket: socket, at: now) },
            { $0.handleDeliveryError(error, socket: socket, at: now) }
        )
        next(at: now)
    }

    mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        with({ $0.handleSendReport(report, at: now) }, { $0.handleSendReport(report, at: now) })
        next(at: now)
    }

    mutating func handleTimeout(at now: MonotonicInstant) {
        with({ $0.handleTimeout(at: now) }, { $0.handleTimeout(at: now) })
        next(at: now)
    }

    mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        var datagram: OutboundDatagram?
        with({ datagram = $0.pollTransmit(at: now) }, { datagram = $0.pollTransmit(at: now) })
        if datagram != nil { sentThisMessage += 1 }
        if sentThisMessage > policy.attempts { fatalError("\(sentThisMessage) sends for one message") }
        return datagram
    }

    mutating func pollEvent() -> String? {
        switch client {
        case .plain(var plain):
            defer { client = .plain(plain) }
            return plain.pollEvent().map { "\($0)" }
        case .framed(var framed):
            defer { client = .framed(framed) }
            return framed.pollEvent().map { "\($0)" }
        }
    }

    var nextDeadline: MonotonicInstant? {
        switch client {
        case .plain(let plain): plain.nextDeadline
        case .framed(let framed): framed.nextDeadline
        }
    }

    var isFinished: Bool { innerFinished && messages >= 8 }
}

// Replies, strangers' datagrams, ICMP errors and time against each client of `udp send`: never more sends a
// message than the policy's attempts, every datagram accounted for by one reason, one request in flight at most.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let server = SocketAddress(IPAddress.v4(IPv4Address(198, 18, 2, 2)), port: 9999)
    let stranger = SocketAddress(IPAddress.v4(IPv4Address(198, 18, 2, 3)), port: 9999)
    var machine = SerialClients(mode: bytes[0], destination: server)
    MachineScript(peers: [server, stranger]).play(Array(bytes.dropFirst()), on: &machine) { machine, _ in
        switch machine.client {
        case .plain(let plain):
            let counters = plain.counters
            let classified =
                counters.replies + counters.rejected + counters.late + counters.foreignSenders + counters.notAwaited
            guard classified == machine.datagrams else {
                fatalError("\(classified) of \(machine.datagrams) classified")
            }
            guard counters.sent <= machine.messages * machine.policy.attempts else {
                fatalError("\(counters.sent) sent")
            }
            guard counters.droppedEvents == 0 else { fatalError("events dropped") }
            if plain.isFinished, plain.nextDeadline != nil { fatalError("a finished client with a timer") }
            if !plain.manyRepliers, counters.replies > machine.messages { fatalError("more replies than messages") }
        case .framed(let framed):
            let counters = framed.client.counters
            guard framed.client.outstandingCount <= 1 else { fatalError("\(framed.client.outstandingCount) in flight") }
            let classified =
                counters.completed + counters.duplicates + counters.late + counters.unknown + counters.malformed
                + framed.foreignSenders + framed.notAwaited
            guard classified == machine.datagrams else {
                fatalError("\(classified) of \(machine.datagrams) classified")
            }
            guard counters.completed + counters.failed + counters.cancelled <= counters.started else {
                fatalError("more requests ended than started")
            }
            if framed.isFinished, framed.nextDeadline != nil { fatalError("a finished client with a timer") }
        }
    }
    return 0
}

@_cdecl("FuzzDatagramClient_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
