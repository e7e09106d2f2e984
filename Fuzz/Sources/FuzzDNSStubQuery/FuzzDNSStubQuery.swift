import FuzzDriver
import FuzzMachine
import UDP
import UDPDNS
import UDPPatterns

// A stub query of 3 tries to two servers in turn, with its ids drawn from SeededGenerator(seed: 7) so that a
// seed's reply can match, played a script of datagrams (replies, forgeries, garbage, from the servers and from
// elsewhere), ICMP errors and time. After every step: the tries stay within the policy, every datagram and
// error is accounted for once (ignored by reason, dropped after its try ended, ending a try, or the answer),
// and the deadline is there exactly while the query runs, never in the past.

let servers = [
    SocketAddress(IPv4Address(198, 18, 0, 53), port: 53), SocketAddress(IPv4Address(198, 18, 0, 54), port: 53),
]
/// The script player, made per input: MachineScript is no Sendable global.
func makeScript() -> MachineScript {
    MachineScript(
        peers: servers + [
            SocketAddress(IPv4Address(198, 18, 0, 53), port: 5353),
            SocketAddress(IPv4Address(198, 18, 0, 66), port: 53),
        ]
    )
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let query = DNSStubQuery(
        servers: servers,
        question: DNSQuestion(name: DNSName("www.example.test")!, type: .a),
        policy: RetryPolicy(attempts: 3, timeout: .seconds(2), backoff: 2),
        generator: SeededGenerator(seed: 7)
    )
    // The latest try's socket, or the first try's for a datagram on the second interface (a late reply); an ICMP
    // error reaches the latest try's, whose datagram it quotes.
    func latest(_ query: DNSStubQuery) -> Int { max(query.triesSent - 1, 0) }
    var machine = RoutedMachine(
        query,
        datagramSocket: { query, datagram in datagram.info.interfaceIndex == 2 ? 0 : latest(query) },
        errorSocket: latest
    )
    makeScript().play(bytes, on: &machine) { machine, now in
        let query = machine.machine
        guard query.triesSent >= 1, query.triesSent <= query.policy.attempts else {
            fatalError("\(query.triesSent) tries of \(query.policy.attempts)")
        }
        var answered = 0
        if case .answered(let answer)? = query.outcome {
            answered = 1
            guard answer.roundTrip >= .zero, answer.attempt <= query.triesSent else { fatalError("\(answer)") }
        }
        let accounted = query.ignored.total + query.droppedAfterFailure + query.triesEndedByError + answered
        guard accounted == query.datagramsReceived + query.deliveryErrorsReceived else {
            fatalError("\(accounted) accounted for, \(query.datagramsReceived) + \(query.deliveryErrorsReceived) in")
        }
        guard query.triesEndedByError <= query.triesSent else { fatalError("more tries ended than sent") }
        checkDeadlineWhileRunning(machine, at: now)
    }
    return 0
}

@_cdecl("FuzzDNSStubQuery_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
