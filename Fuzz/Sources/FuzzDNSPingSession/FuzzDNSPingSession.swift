import FuzzDriver
import FuzzMachine
import UDP
import UDPDNS
import UDPPatterns

// dnsping of 5 queries, one every 500 ms with a 2-second timeout, its ids drawn from SeededGenerator(seed: 7) so
// that a seed's reply can match, played a script of datagrams, ICMP errors and time. After every step: every
// query over is answered or lost, at most `count` go, one at a time, each starting no sooner than the interval
// after the one before, and the deadline is there exactly while the session runs, never in the past.

let server = SocketAddress(IPv4Address(198, 18, 0, 53), port: 53)
/// The script player, made per input: MachineScript is no Sendable global.
func makeScript() -> MachineScript {
    MachineScript(
        peers: [
            server, SocketAddress(IPv4Address(198, 18, 0, 53), port: 5353),
            SocketAddress(IPv4Address(198, 18, 0, 66), port: 53),
        ]
    )
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let session = DNSPingSession(
        server: server,
        question: DNSQuestion(name: DNSName("www.example.test")!, type: .a),
        count: 5,
        interval: .milliseconds(500),
        timeout: .seconds(2),
        generator: SeededGenerator(seed: 7)
    )
    // The query in flight's socket, or the other one for a datagram on the second interface (a late reply); an
    // ICMP error reaches the query in flight's socket, whose datagram it quotes. No query starts sooner than the
    // interval after the one before.
    func current(_ session: DNSPingSession) -> Int { ((session.inFlight ?? 1) - 1) % DNSPingSession.socketCount }
    var lastStart: MonotonicInstant?
    var machine = RoutedMachine(
        session,
        datagramSocket: { session, datagram in
            datagram.info.interfaceIndex == 2 ? 1 - current(session) : current(session)
        },
        errorSocket: current,
        watchSend: { session, now in
            if let lastStart, now < lastStart + session.interval {
                fatalError(
                    "a query at \(now), \(lastStart.duration(to: now)) after the one before (\(session.sent) over)"
                )
            }
            lastStart = now
        }
    )
    makeScript().play(bytes, on: &machine) { machine, now in
        let session = machine.machine
        let over = session.sent + (session.inFlight == nil ? 0 : 1)
        guard session.received + session.lost == session.sent, over <= session.count, over >= 1 else {
            fatalError("sent \(session.sent), received \(session.received), lost \(session.lost)")
        }
        guard session.icmpErrors <= session.lost, session.sendFailure == nil else {
            fatalError("\(session.icmpErrors) ICMP errors for \(session.lost) lost")
        }
        if let answer = session.lastAnswer, answer.roundTrip < .zero || answer.roundTrip > session.timeout {
            fatalError("round trip \(answer.roundTrip)")
        }
        checkDeadlineWhileRunning(machine, at: now)
    }
    return 0
}

@_cdecl("FuzzDNSPingSession_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
