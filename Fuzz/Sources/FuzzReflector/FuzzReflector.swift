import FuzzDriver
import UDP
import UDPPatterns
import UDPTools

// The echo's batch machine against a script of batches from many sources, ICMP errors, failing sends and time,
// with a prefix and an admission policy drawn from the input: it never crashes, every datagram received is
// answered or counted (failed, rate-limited, amplification-limited), the sources it remembers stay within the
// policy's bound, and its report deadline is never in the past after a timeout.
//
// Input: two bytes of configuration (prefix length, policy), then steps, each `op % 4`: 0 a batch: [count] then
// per datagram [source] [length: 2 bytes] [payload]; 1 time passes: [ms: 2 bytes]; 2 an ICMP error: [kind, high
// bit: sends fail from now on, or no more; low bit: with the error queue's detail]; 3 the clock jumps to the next deadline.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count >= 2 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let maximumPeers = 8
    let admission: PeerAdmission.Policy? =
        bytes[1] % 3 == 0
        ? nil
        : PeerAdmission.Policy(
            ratePerSecond: bytes[1] % 3 == 1 ? 100 : nil,
            burst: 4,
            amplificationLimit: 3,
            maximumPeers: maximumPeers,
            idleTimeout: .milliseconds(500)
        )
    var reflector = Reflector(prefix: [UInt8](repeating: 0x61, count: Int(bytes[0] % 4) * 40), admission: admission)
    var now = MonotonicInstant(nanoseconds: 1_000_000_000)
    reflector.report(every: .milliseconds(300), from: now)
    var failing = false
    var position = 2
    while position < bytes.count {
        let operation = bytes[position] % 4
        position += 1
        switch operation {
        case 0:
            guard position < bytes.count else { return 0 }
            let datagrams = Int(bytes[position] % 8) + 1
            position += 1
            var taken = 0
            reflector.withReceiveBatch { batch in
                batch.removeAll()
                while taken < datagrams, position + 3 <= bytes.count {
                    let source = SocketAddress(.v4(IPv4Address(198, 18, 1, bytes[position] % 16)), port: 40_000)
                    // Up to 64 KiB, so that a reply with the prefix may exceed the datagram limit.
                    let length = Int(bytes[position + 1]) << 8 | Int(bytes[position + 2])
                    position += 3
                    let end = min(bytes.count, position + length)
                    let padding = [UInt8](repeating: 0, count: length - (end - position))
                    (Array(bytes[position..<end]) + padding).withUnsafeBytes { _ = batch.append($0, to: source) }
                    position = end
                    taken += 1
                }
            }
            guard taken > 0 else { return 0 }
            reflector.handleReceived(taken, socket: 0, at: now) { batch, first, _ throws(UDPError) in
                // A send queue that takes at most five at a time; with failing on, every other call fails.
                if failing && first % 2 == 1 { throw UDPError(.send, errno: .hostUnreachable) }
                return min(5, batch.count - first)
            }
        case 1:
            guard position + 2 <= bytes.count else { return 0 }
            now = now + .milliseconds(Int(bytes[position]) << 8 | Int(bytes[position + 1]))
            position += 2
            fireIfDue(&reflector, now)
        case 2:
            guard position < bytes.count else { return 0 }
            // With the error queue's detail, or without (the kernel only failed a call with it).
            let error =
                bytes[position] & 1 == 0 ? nil : DeliveryError.portUnreachable(to: .loopbackV4(port: 9), quoting: [])
            reflector.handleDeliveryError(error, socket: 0, at: now)
            failing = bytes[position] & 0x80 != 0
            position += 1
        default:
            guard let due = reflector.nextDeadline else { continue }
            now = max(now, due)
            fireIfDue(&reflector, now)
        }
        check(reflector, maximumPeers: maximumPeers)
        while reflector.pollEvent() != nil {}
    }
    return 0
}

/// Fires the report when its time has come, and checks that the next one is ahead.
private func fireIfDue(_ reflector: inout Reflector, _ now: MonotonicInstant) {
    guard let due = reflector.nextDeadline, due <= now else { return }
    reflector.handleTimeout(at: now) { _, _, _ in 0 }
    if let next = reflector.nextDeadline, next <= now { fatalError("report due at \(next), now \(now)") }
}

/// Every datagram answered or counted, and the sources within their bound.
private func check(_ reflector: borrowing Reflector, maximumPeers: Int) {
    let counters = reflector.counters
    let accounted = counters.replied + counters.failed + counters.rateLimited + counters.amplificationLimited
    guard counters.received == accounted else { fatalError("counters do not add up: \(counters)") }
    guard reflector.admittedSources <= maximumPeers else { fatalError("\(reflector.admittedSources) sources") }
}

@_cdecl("FuzzReflector_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
