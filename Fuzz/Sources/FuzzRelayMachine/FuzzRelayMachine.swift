import FuzzDriver
import UDP
import UDPTools

// The relay's machine against a script of datagrams from clients and the server, ICMP errors, failed sends and
// sockets that cannot be made, with faults drawn from the input: it never crashes, its counters add up in each
// direction, its mappings stay within --max-clients with one open socket each, and no deadline it gives after
// a timeout is already past.
//
// Input: six bytes of faults (loss, duplicate, reorder, delay, jitter, rate), then steps, each `op % 4`:
// 0 datagrams: [socket] [count] then per datagram [peer] [length] [payload]; 1 time passes: [ms: 2 bytes];
// 2 ICMP error: [socket, high bit: sends fail from now on, or no more]; 3 the clock jumps to the next deadline.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count >= 6 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let faults = Impairment(
        loss: Double(bytes[0] % 5) / 10,
        duplicate: Double(bytes[1] % 5) / 10,
        reorder: Double(bytes[2] % 5) / 10,
        delay: .milliseconds(Int(bytes[3] % 8) * 10),
        jitter: .milliseconds(Int(bytes[4] % 4) * 5),
        rate: Double(bytes[5] % 4) * 500
    )
    let sockets = FakeSockets()
    let maxClients = 4
    var relay = RelayMachine(
        listener: 0,
        up: faults,
        down: faults,
        seed: UInt64(bytes[0]),
        idleTimeout: .milliseconds(500),
        maxClients: maxClients,
        maximumHeld: (64, 16_384),
        openUpstream: { sockets.open() },
        closeUpstream: { sockets.close($0) }
    )
    var now = MonotonicInstant(nanoseconds: 1_000_000_000)
    relay.report(every: .milliseconds(300), from: now)
    var position = 6
    while position < bytes.count {
        let operation = bytes[position] % 4
        position += 1
        switch operation {
        case 0:
            guard position + 2 <= bytes.count else { return 0 }
            // The listener, or a client's socket (maybe one that was closed, or never was).
            let socket = Int(bytes[position] % 6)
            let datagrams = Int(bytes[position + 1] % 8) + 1
            position += 2
            var taken = 0
            relay.withReceiveBatch { batch in
                batch.removeAll()
                while taken < datagrams, position + 2 <= bytes.count {
                    let peer = SocketAddress(.v4(IPv4Address(198, 18, 0, bytes[position] % 8)), port: 40_000)
                    let length = Int(bytes[position + 1])
                    position += 2
                    let end = min(bytes.count, position + length)
                    bytes[position..<end].withUnsafeBytes { _ = batch.append($0, to: peer) }
                    position = end
                    taken += 1
                }
            }
            guard taken > 0 else { return 0 }
            relay.handleReceived(taken, socket: socket, at: now) { batch, first, number throws(UDPError) in
                try sockets.send(&batch, first, number)
            }
        case 1:
            guard position + 2 <= bytes.count else { return 0 }
            now = now + .milliseconds(Int(bytes[position]) << 8 | Int(bytes[position + 1]))
            position += 2
            fireIfDue(&relay, now, sockets)
        case 2:
            guard position < bytes.count else { return 0 }
            relay.handleDeliveryError(nil, socket: Int(bytes[position] % 6), at: now)
            // Its high bit turns failing sends on or off, as a route that comes and goes.
            sockets.failing = bytes[position] & 0x80 != 0
            position += 1
        default:
            guard let due = relay.nextDeadline else { continue }
            now = max(now, due)
            fireIfDue(&relay, now, sockets)
        }
        check(relay, maxClients: maxClients, sockets)
        while relay.pollEvent() != nil {}
    }
    return 0
}

/// Fires the relay's timeout when its deadline has come, and checks that the next one is ahead.
private func fireIfDue(_ relay: inout RelayMachine, _ now: MonotonicInstant, _ sockets: FakeSockets) {
    guard let due = relay.nextDeadline, due <= now else { return }
    relay.handleTimeout(at: now) { batch, first, number throws(UDPError) in try sockets.send(&batch, first, number) }
    if let next = relay.nextDeadline, next <= now { fatalError("deadline \(next) not after \(now)") }
}

/// The invariants: counters that add up, and mappings within their bound, one open socket each.
private func check(_ relay: borrowing RelayMachine, maxClients: Int, _ sockets: FakeSockets) {
    let counters = relay.counters
    for direction in [counters.up, counters.down] {
        let accepted = direction.received - direction.dropped + direction.duplicated
        let ended =
            direction.forwarded + direction.rateDropped + direction.queueFull + direction.failed + direction.unmapped
            + direction.inFlight
        guard accepted == ended, direction.inFlight >= 0 else { fatalError("counters do not add up: \(direction)") }
    }
    guard counters.activeClients <= maxClients, counters.activeClients == sockets.openNumbers.count else {
        fatalError("\(counters.activeClients) clients, \(sockets.openNumbers.count) sockets open")
    }
}

/// Socket numbers as a `SocketTable` gives them; every fifth socket cannot be made (descriptors ran out), and a
/// send on a socket that is not open fails as the driver's would.
private final class FakeSockets {
    var openNumbers: Set<Int> = []
    var made = 0
    /// Whether every other send fails (no route), so that the machine's counting of failures is played too.
    var failing = false

    func open() -> Result<Int, UDPError> {
        made += 1
        if made % 5 == 0 { return .failure(UDPError(.socket, errno: .tooManyOpenFiles)) }
        let number = (1...).first { !openNumbers.contains($0) }!
        openNumbers.insert(number)
        return .success(number)
    }

    func close(_ number: Int) {
        guard openNumbers.remove(number) != nil else { fatalError("socket \(number) closed twice") }
    }

    func send(_ batch: inout DatagramBatch, _ first: Int, _ number: Int) throws(UDPError) -> Int {
        guard number == 0 || openNumbers.contains(number) else { throw UDPError(.send, errno: .noSuchDevice) }
        if failing && first % 2 == 1 { throw UDPError(.send, errno: .hostUnreachable) }
        // A send queue that takes at most three at a time, so the machine's retries of the rest are exercised.
        return min(3, batch.count - first)
    }
}

@_cdecl("FuzzRelayMachine_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
