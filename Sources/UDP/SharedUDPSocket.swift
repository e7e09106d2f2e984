/// A UDP socket that several threads use at once: a `Sendable` class that owns one ``UDPSocket``.
///
/// The kernel serialises the calls on one descriptor, so any number of threads may send and receive on
/// ``socket`` together (an echo server's workers, a relay's two directions). The descriptor closes when the
/// last reference goes — also when the thread it was meant for never started, so nothing leaks.
///
/// ```swift
/// let shared = SharedUDPSocket(try UDPSocket(bindingTo: .any(.inet, port: 9000)))
/// // On one thread:
/// try shared.socket.send(reply, to: peer)
/// // On another, at the same time:
/// let datagram = try shared.socket.receive(maximumSize: 65_535)
/// ```
public final class SharedUDPSocket: Sendable {
    /// The socket; borrow it for any call (`shared.socket.receive(into:)`).
    public let socket: UDPSocket

    /// Takes ownership of `socket`.
    public init(_ socket: consuming UDPSocket) {
        self.socket = socket
    }

    /// The socket's file descriptor, for this package's engines to poll. Outside the package, lend it with
    /// `socket.withUnsafeDescriptor(_:)`, which says for how long it may be used.
    package var descriptor: CInt { socket.descriptor }
}
