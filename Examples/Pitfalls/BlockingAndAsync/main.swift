// Pitfall 7: mixing blocking and async on one socket.
//
// An async framework reads its socket all the time: an event loop waits for every datagram and hands each to a
// handler. Code that also calls a blocking receive on that socket races the loop for every datagram, and the
// kernel gives each one to whichever reader comes first: a reply taken by the loop is lost to the code that
// waits for it, and an event taken by the blocking code is lost to the loop. (In Python: an asyncio
// DatagramProtocol on a socket that other code also calls sock.recvfrom() on.) This program shows a reply lost
// that way, with a thread reading the socket as an event loop does, then the fix: one owner of the receives.
// usage: pitfall-blocking-and-async        (loopback only; about a second)
import Dispatch
import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func main() throws {
    print("pitfall 7: mixing blocking and async on one socket")
    let server = SharedUDPSocket(try UDPSocket(bindingTo: .loopbackV4(port: 0)))
    let serverAddress = try server.socket.localAddress
    let serverLoop = startReplyServer(on: server)
    defer { serverLoop.stop() }

    print("")
    print("problem: two readers of one socket, an event loop and a blocking call, and the reply goes to the wrong one")
    let client = SharedUDPSocket(try UDPSocket(bindingTo: .loopbackV4(port: 0)))
    let dropped = Mailbox<String>()
    let eventLoop = BackgroundLoop("event loop") { isStopping in
        while !isStopping() {
            do {
                guard let datagram = try client.socket.receive(maximumSize: 2048, timeout: .milliseconds(50)) else {
                    continue
                }
                // The loop knows events ("event: ..."); a reply to someone else's request means nothing to it.
                print("  event loop: read \"\(text(datagram.payload))\", which is no event: dropped")
                dropped.put(text(datagram.payload))
            } catch {
                print("  event loop: \(error)")
                return
            }
        }
    }
    print("  event loop: reading every datagram on the client's socket \(try client.socket.localAddress)")
    try client.socket.send(Array("request 1".utf8), to: serverAddress)
    print("  blocking code: sent \"request 1\" on the same socket, to \(serverAddress)")
    // With both waiting, the kernel hands the reply to one of them, a race that either may win. Here the blocking
    // call reads only once the loop has taken it, so that every run shows the same loss.
    _ = dropped.take(timeout: .seconds(2))
    let start = ContinuousClock.now
    let mine = try client.socket.receive(maximumSize: 2048, timeout: .milliseconds(500))
    print(
        "  blocking code: receive(timeout: 0.5 s) "
            + (mine.map { "got \"\(text($0.payload))\"" } ?? "found nothing after \(seconds(since: start)) s")
            + ": its reply went to the other reader"
    )
    eventLoop.stop()

    print("")
    print("fix: one owner reads the socket and routes each datagram: replies to whoever waits, the rest as events")
    let owner = SocketOwner(try UDPSocket(bindingTo: .loopbackV4(port: 0)))
    let handled = Mailbox<String>()
    let ownerLoop = owner.start { event in
        print("  owner: event \"\(text(event.payload))\" from \(event.sender), handled as an event")
        handled.put(text(event.payload))
    }
    defer { ownerLoop.stop() }
    let peer = try UDPSocket(family: .inet)
    try peer.send(Array("event: door opened".utf8), to: try owner.shared.socket.localAddress)
    _ = handled.take(timeout: .seconds(2))
    let requestStart = ContinuousClock.now
    if let reply = try owner.request("request 2", to: serverAddress, timeout: .milliseconds(500)) {
        let elapsed = ContinuousClock.now - requestStart
        print(
            "  blocking code: owner.request(\"request 2\") returned \"\(text(reply))\" (\(elapsed < .milliseconds(500) ? "within" : "after") 0.5 s)"
        )
    } else {
        print("  blocking code: owner.request(\"request 2\") found no reply within 0.5 s")
    }
    print("  the blocking code waits on a mailbox, never in receive(); only the owner reads the socket")
    print("  in async code the same: one task (or UDPAsync's AsyncUDPSocket) owns the receives; and a blocking")
    print("  receive() inside an async function holds one of the few threads that run every task while it waits")
}

/// Seconds since `start`, to one decimal place.
func seconds(since start: ContinuousClock.Instant) -> String {
    "\(((ContinuousClock.now - start) / .milliseconds(100)).rounded() / 10)"
}

do {
    try main()
} catch {
    print("error: \(error)")
    exit(1)
}
