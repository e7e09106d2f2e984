import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import UDP
import UDPPatterns

/// A ``UDPServer`` that answers UDPPatterns' framed requests through an `IdempotentServer`: the handler runs
/// at most once per (peer, request id) within the reply cache's time to live, and a retry (its first reply was
/// lost) is answered from the cache. So a request that is not safe to repeat ("debit 10") is carried out once,
/// however often ``AsyncRequestReplyClient`` or `udp send --framed` resends it. The frames are those of
/// `udp echo --framed`, which this server can stand in for.
///
/// ```swift
/// let server = IdempotentUDPServer(address: try SocketAddress(parsing: "0.0.0.0:9999"), logger: logger) {
///     request, peer in Array("ack: ".utf8) + request
/// }
/// try await ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm], logger: logger).run()
/// ```
///
/// Datagrams that are not framed requests get no answer (answering garbage from a forged source would make
/// the server a reflector). The handler is synchronous and runs under the reply cache's lock, one request at a
/// time in arrival order, as in ``UDPServer``: a request and its retry can never run it twice at once.
/// Lifecycle, shutdown and logging are ``UDPServer``'s, and so is its caveat on a wildcard address: SwiftNIO
/// cannot send a reply from the address a request was sent to, so on a host with several addresses bind each
/// address to a server of its own.
public struct IdempotentUDPServer: Service {
    /// Computes the reply payload from the request payload and its sender. If it throws, nothing is cached or
    /// sent, the error is logged, and a retry runs it again.
    public typealias Handler = @Sendable (_ request: [UInt8], _ peer: UDP.SocketAddress) throws -> [UInt8]

    private let server: UDPServer
    private let state: SharedServer

    /// A server that will listen on `address` and run `handler` once per new request; nothing is bound until
    /// ``run()``.
    ///
    /// - Parameters:
    ///   - address: Where to listen; port 0 lets the kernel pick (`onListening` says which).
    ///   - timeToLive: How long a reply is replayed to retries: at least the longest a client keeps retrying
    ///     (`udp echo --framed` keeps 30 seconds).
    ///   - cacheCapacity: The most replies remembered.
    ///   - configuration: NIO's side of the socket; see ``AsyncUDPSocket/Configuration-swift.struct``.
    ///   - eventLoopGroup: The NIOPosix group to run on; share your web server's.
    ///   - logger: As for ``UDPServer``.
    ///   - configure: Sets options on the core socket before it is bound.
    ///   - onListening: Called once the socket is bound, with its address.
    ///   - handler: Answers each new request.
    public init(
        address: UDP.SocketAddress,
        timeToLive: Duration = .seconds(30),
        cacheCapacity: Int = 4096,
        configuration: AsyncUDPSocket.Configuration = AsyncUDPSocket.Configuration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        configure: @escaping @Sendable (borrowing UDPSocket) throws -> Void = { _ in },
        onListening: @escaping @Sendable (UDP.SocketAddress) async -> Void = { _ in },
        handler: @escaping Handler
    ) {
        let state = SharedServer(IdempotentServer(timeToLive: timeToLive, capacity: cacheCapacity))
        self.state = state
        self.server = UDPServer(
            address: address,
            configuration: configuration,
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            configure: configure,
            onListening: onListening
        ) { datagram in
            let sender = datagram.sender
            return try datagram.buffer.withUnsafeReadableBytes { bytes in
                try state.server.withLockedValue { server in
                    try server.respond(to: bytes, from: sender, now: .now()) { request in try handler(request, sender) }
                }
            }
        }
    }

    /// Binds, serves until graceful shutdown or cancellation, and closes the socket, as ``UDPServer/run()``.
    public func run() async throws {
        try await server.run()
    }

    /// What the server has done so far: requests handled, retries answered from the cache, malformed
    /// datagrams ignored.
    public var counters: IdempotentServer<UDP.SocketAddress>.Counters {
        state.server.withLockedValue { server in server.counters }
    }
}

/// The server's state, shared by the handler on the serving task and whoever reads ``IdempotentUDPServer/counters``.
private final class SharedServer: Sendable {
    let server: NIOLockedValueBox<IdempotentServer<UDP.SocketAddress>>

    init(_ server: IdempotentServer<UDP.SocketAddress>) {
        self.server = NIOLockedValueBox(server)
    }
}
