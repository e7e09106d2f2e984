// Pitfall 1: a client without a time-out.
//
// UDP never says that a datagram was lost: a receive without a time-out waits for ever for a reply that will
// not come. This program shows that hang (a watchdog ends it after a second, as nothing would in a real
// client), then the fix: a receive that gives up at a deadline.
// usage: pitfall-timeouts        (loopback only; about 2 seconds)
import Dispatch
import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Seconds since `start`, to one decimal place, for the printed timings.
func seconds(since start: ContinuousClock.Instant) -> String {
    let elapsed = ContinuousClock.now - start
    let tenths = (elapsed / .milliseconds(100)).rounded()
    return "\(tenths / 10)"
}

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Ends the demonstration's hang: after `delay`, sends "wake up" to the stuck client from a socket of its own.
/// A real program has no such watchdog, so its receive would wait for ever.
func startWatchdog(after delay: Duration, waking client: SocketAddress) {
    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(delay / .milliseconds(1)))) {
        print("  watchdog: \(delay) passed and the client is still inside receive(); sending it \"wake up\"")
        do {
            let watchdog = try UDPSocket(family: .inet)
            try watchdog.send(Array("wake up".utf8), to: client)
        } catch {
            print("  watchdog: cannot wake the client: \(error)")
            exit(1)
        }
    }
}

func main() throws {
    print("pitfall 1: a client without a time-out")
    // A server that is down and a datagram lost on the way look the same to a client: nothing comes back. A
    // bound socket that never reads plays both; unlike a closed port, it draws no ICMP error either.
    let silentServer = try UDPSocket(bindingTo: .loopbackV4(port: 0))
    let server = try silentServer.localAddress
    // Bound to port 0 (the kernel picks) only so that the watchdog knows where to find it.
    let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))

    print("")
    print("problem: receive() without a time-out waits for ever when no reply comes")
    try client.send(Array("ping".utf8), to: server)
    print("  client: sent \"ping\" to \(server), a server that never answers")
    print("  client: receive() with no time-out, as in `data, peer = sock.recvfrom(2048)` ...")
    let start = ContinuousClock.now
    startWatchdog(after: .seconds(1), waking: try client.localAddress)
    let woken = try client.receive(maximumSize: 2048)
    print(
        "  client: receive() returned after \(seconds(since: start)) s, only because the watchdog sent "
            + "\"\(text(woken.payload))\" from \(woken.sender)"
    )
    print("  without the watchdog it would still be waiting: no error, no exit, a hung program")

    print("")
    print("fix: receive(timeout:) returns nil at a deadline you choose")
    try client.send(Array("ping".utf8), to: server)
    let fixStart = ContinuousClock.now
    if let reply = try client.receive(maximumSize: 2048, timeout: .milliseconds(500)) {
        print("  client: unexpected reply \"\(text(reply.payload))\" from \(reply.sender)")
        exit(1)
    }
    print("  client: receive(timeout: 0.5 s) returned nil after \(seconds(since: fixStart)) s: no reply within 0.5 s")
    // The socket-wide form, like Python's sock.settimeout(0.3): every blocking receive is bounded.
    try client.setReceiveTimeout(.milliseconds(300))
    let optionStart = ContinuousClock.now
    do {
        let reply = try client.receive(maximumSize: 2048)
        print("  client: unexpected reply \"\(text(reply.payload))\" from \(reply.sender)")
        exit(1)
    } catch {
        // Not `catch where`: with a non-copyable socket in scope, that crashes the Swift 6.3.1 compiler.
        guard error.code == .timedOut else { throw error }
        print(
            "  client: after setReceiveTimeout(0.3 s), receive() threw after \(seconds(since: optionStart)) s: \(error)"
        )
    }
    print("  then resend, or give up with an error: `swift run example-query` retries with backoff")
}

do {
    try main()
} catch {
    print("error: \(error)")
    exit(1)
}
