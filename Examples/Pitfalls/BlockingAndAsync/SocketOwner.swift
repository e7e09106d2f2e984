import Synchronization
import UDP

/// The one owner of a socket's receives. Its loop, on a thread of its own, reads every datagram and routes it:
/// a reply to the caller that waits for it (matched by request id), anything else to the event handler. Callers
/// on other threads send through it and wait on a mailbox; they never call receive themselves.
///
/// UDPAsync's `AsyncUDPSocket` is such an owner, on SwiftNIO's event loop; this one keeps the example on the core
/// library.
final class SocketOwner: Sendable {
    let shared: SharedUDPSocket
    /// The callers waiting for a reply, by the id of their request.
    private let waiting = Mutex<[String: Mailbox<[UInt8]>]>([:])

    init(_ socket: consuming UDPSocket) {
        shared = SharedUDPSocket(socket)
    }

    /// Sends the request `id` to `server` and waits for its reply, which the owner's loop hands over.
    func request(_ id: String, to server: SocketAddress, timeout: Duration) throws -> [UInt8]? {
        let mailbox = Mailbox<[UInt8]>()
        waiting.withLock { $0[id] = mailbox }
        defer { waiting.withLock { _ = $0.removeValue(forKey: id) } }
        try shared.socket.send(Array(id.utf8), to: server)
        return mailbox.take(timeout: timeout)
    }

    /// Starts the loop that reads every datagram; `onEvent` gets those that answer no waiting request.
    func start(onEvent: @escaping @Sendable (Datagram) -> Void) -> BackgroundLoop {
        BackgroundLoop("owner") { [self] isStopping in
            while !isStopping() {
                do {
                    guard let datagram = try shared.socket.receive(maximumSize: 2048, timeout: .milliseconds(50))
                    else { continue }
                    route(datagram, onEvent: onEvent)
                } catch {
                    print("  owner: \(error)")
                    return
                }
            }
        }
    }

    private func route(_ datagram: Datagram, onEvent: (Datagram) -> Void) {
        let prefix = "reply to "
        let message = text(datagram.payload)
        if message.hasPrefix(prefix), let mailbox = waiting.withLock({ $0[String(message.dropFirst(prefix.count))] }) {
            mailbox.put(datagram.payload)
        } else {
            onEvent(datagram)
        }
    }
}
