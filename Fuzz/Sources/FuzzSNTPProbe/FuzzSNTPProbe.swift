import FuzzDriver
import FuzzMachine
import Synchronization
import UDP
import UDPNTP
import UDPPatterns

// The SNTP probe against a script of replies (true, forged, kisses, garbage) from the server and from others,
// ICMP errors quoting the last request, and time: it never crashes, every datagram and error it took is either
// counted as ignored or ended a request, one request at a time, never more than asked, its interval within the
// back-off's bounds, and its next deadline always ahead of the clock until it is done. The requests' nonces
// are 1, 2, 3…, so that a seed can hold a valid reply (origin timestamp 1) to the first.

/// Nonces 1, 2, 3…
final class Nonces: Sendable {
    private let last = Mutex<UInt64>(0)

    func next() -> UInt64 {
        last.withLock { value in
            value += 1
            return value
        }
    }
}

/// The probe, with what went into it and what came out of it counted.
struct CountedProbe: DatagramMachine {
    var probe: SNTPProbe
    var datagrams = 0
    var errors = 0
    var samples = 0
    var timeouts = 0
    var kisses = 0
    var deliveryErrors = 0
    var ignored = 0

    mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        if !probe.isFinished { datagrams += 1 }
        probe.handleDatagram(datagram, at: now)
    }

    mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        if !probe.isFinished { errors += 1 }
        probe.handleDeliveryError(error, socket: socket, at: now)
    }

    mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        probe.handleSendReport(report, at: now)
    }

    mutating func handleTimeout(at now: MonotonicInstant) { probe.handleTimeout(at: now) }

    mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? { probe.pollTransmit(at: now) }

    mutating func pollEvent() -> SNTPProbe.Event? {
        let event = probe.pollEvent()
        switch event {
        case .sample: samples += 1
        case .timeout: timeouts += 1
        case .kissOfDeath: kisses += 1
        case .deliveryError: deliveryErrors += 1
        case .ignored: ignored += 1
        case nil: break
        }
        return event
    }

    var nextDeadline: MonotonicInstant? { probe.nextDeadline }
    var isFinished: Bool { probe.isFinished }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let server = SocketAddress(IPAddress.v4(IPv4Address(198, 18, 2, 2)), port: 123)
    let stranger = SocketAddress(IPAddress.v4(IPv4Address(198, 18, 2, 3)), port: 123)
    let otherPort = SocketAddress(IPAddress.v4(IPv4Address(198, 18, 2, 2)), port: 124)
    let nonces = Nonces()
    let interval = Duration.milliseconds(500)
    let requests = 8
    var machine = CountedProbe(
        probe: SNTPProbe(
            server: server,
            count: requests,
            interval: interval,
            timeout: .seconds(1),
            kernelStamps: true,
            nonce: { nonces.next() }
        )
    )
    MachineScript(peers: [server, stranger, otherPort]).play(bytes, on: &machine) { machine, now in
        let probe = machine.probe
        // Every datagram and error was ignored and counted, or it ended a request (the script fails no send).
        let taken = machine.datagrams + machine.errors
        let accounted = probe.ignoredByReason.total + machine.samples + machine.kisses + machine.deliveryErrors
        guard taken == accounted else { fatalError("\(taken) inputs, \(accounted) accounted for") }
        guard machine.ignored == probe.ignoredByReason.total, machine.samples == probe.samples.count else {
            fatalError("events and counts disagree: \(machine.ignored) \(probe.ignoredByReason.total)")
        }
        let ended = machine.samples + machine.timeouts + machine.kisses + machine.deliveryErrors
        guard probe.requestsEnded == ended else { fatalError("\(probe.requestsEnded) ended, \(ended) events") }
        guard (0...1).contains(probe.requestsStarted - probe.requestsEnded), probe.requestsStarted <= requests
        else { fatalError("\(probe.requestsStarted) started, \(probe.requestsEnded) ended") }
        guard probe.interval >= interval, probe.interval <= SNTPProbe.longestInterval else {
            fatalError("interval \(probe.interval)")
        }
        guard probe.samples.allSatisfy({ $0.sample.delay >= .zero }) else {
            fatalError("a sample out of range")
        }
        if probe.isFinished {
            guard probe.nextDeadline == nil, probe.requestsStarted == probe.requestsEnded else {
                fatalError("finished with a request in flight")
            }
        } else {
            guard let deadline = probe.nextDeadline, deadline > now else {
                fatalError("deadline \(String(describing: probe.nextDeadline)) not after \(now)")
            }
        }
    }
    return 0
}

@_cdecl("FuzzSNTPProbe_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
