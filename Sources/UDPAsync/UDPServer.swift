import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UDP

/// A UDP request/reply server that runs as a swift-service-lifecycle `Service`: put it in a `ServiceGroup`
/// beside your Hummingbird or Vapor server, and it starts with the group and drains and stops on graceful
/// shutdown (SIGTERM, when the group was given `gracefulShutdownSignals: [.sigterm]`).
///
/// ```swift
/// let udp = UDPServer(address: try SocketAddress(parsing: "0.0.0.0:9000"), logger: logger) { datagram in
///     Array("ack: ".utf8) + datagram.bytes          // nil sends no reply
/// }
/// let group = ServiceGroup(services: [app, udp], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
///
/// To share threads with the web server, pass its event loop group: `MultiThreadedEventLoopGroup.singleton`
/// (Hummingbird's default, and this type's) or Vapor's `app.eventLoopGroup`.
///
/// The handler runs for one datagram at a time, in arrival order, on the task that runs the service; the replies
/// to one read batch leave together, in one write and one flush. A handler that throws is logged and the server
/// goes on. Keep handlers quick, or start your own tasks for slow work and answer with an ``AsyncUDPSocket``.
///
/// **Source address.** On a host with several addresses, give each its own server (a `ServiceGroup` holds
/// several) rather than binding `0.0.0.0` or `::`: a reply goes out from the address the kernel's route picks,
/// which a client that checks the source (any connected socket, `dig`) drops when it asked another. SwiftNIO
/// (2.101) cannot send from a chosen address: it reads packet info on receive
/// (``AsyncUDPSocket/Configuration/receivePacketInfo``, ``InboundDatagram/destination``) but writes only ECN
/// (`IP_TOS` / `IPV6_TCLASS`) and `UDP_SEGMENT` ancillary data, and ignores `AddressedEnvelope.Metadata.packetInfo`
/// on a write. The core library can (`UDPSocket.send(_:replyingTo:)`, `DatagramBatch`), as `udp echo` does.
///
/// **Shutdown.** On graceful shutdown the server stops reading (``AsyncUDPSocket/stopReceiving()``), answers
/// the datagrams NIO had already read, and closes its socket; `run()` then returns. On cancellation it closes at
/// once and returns too.
public struct UDPServer: Service {
    /// Answers one datagram: the reply's bytes, or nil for no reply.
    public typealias Handler = @Sendable (InboundDatagram) async throws -> [UInt8]?

    let address: UDP.SocketAddress
    let configuration: AsyncUDPSocket.Configuration
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    let dropReportInterval: Duration
    let configure: @Sendable (borrowing UDPSocket) throws -> Void
    let onListening: @Sendable (UDP.SocketAddress) async -> Void
    let handler: Handler

    /// A server that will listen on `address` and answer each datagram with `handler`; nothing is bound until
    /// ``run()``.
    ///
    /// - Parameters:
    ///   - address: Where to listen; port 0 lets the kernel pick (`onListening` says which).
    ///   - configuration: NIO's side of the socket; see ``AsyncUDPSocket/Configuration-swift.struct``.
    ///   - eventLoopGroup: The NIOPosix group to run on; share your web server's.
    ///   - logger: Says where it listens, what failed, and when the kernel dropped datagrams.
    ///   - dropReportInterval: How often to check the kernel's drop counter and log a warning when it grew.
    ///   - configure: Sets options on the core socket before it is bound, as in
    ///     ``AsyncUDPSocket/bind(to:configuration:eventLoopGroup:logger:configure:)``.
    ///   - onListening: Called once the socket is bound, with its address.
    ///   - handler: Answers each datagram.
    public init(
        address: UDP.SocketAddress,
        configuration: AsyncUDPSocket.Configuration = AsyncUDPSocket.Configuration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        dropReportInterval: Duration = .seconds(10),
        configure: @escaping @Sendable (borrowing UDPSocket) throws -> Void = { _ in },
        onListening: @escaping @Sendable (UDP.SocketAddress) async -> Void = { _ in },
        handler: @escaping Handler
    ) {
        self.address = address
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.dropReportInterval = dropReportInterval
        self.configure = configure
        self.onListening = onListening
        self.handler = handler
    }

    /// Binds, serves until graceful shutdown or cancellation, and closes the socket.
    ///
    /// - Throws: The error that made binding fail, or the socket fail; never for one bad datagram or handler.
    public func run() async throws {
        let socket: AsyncUDPSocket
        do {
            socket = try await AsyncUDPSocket.bind(
                to: address,
                configuration: configuration,
                eventLoopGroup: eventLoopGroup,
                logger: logger,
                configure: configure
            )
        } catch {
            logger.error("cannot listen", metadata: ["address": "\(address)", "error": "\(error)"])
            throw error
        }
        logger.info("listening", metadata: ["address": "\(socket.localAddress)"])
        await onListening(socket.localAddress)
        do {
            try await socket.executeThenClose { inbound, outbound in
                try await withGracefulShutdownHandler {
                    try await serve(socket: socket, inbound: inbound, outbound: outbound)
                } onGracefulShutdown: {
                    socket.stopReceiving()
                }
                let drops = (try? await socket.kernelDropCount()) ?? 0
                logger.info("stopped", metadata: ["address": "\(socket.localAddress)", "kernel_drops": "\(drops)"])
            }
        } catch is CancellationError {
            logger.info("cancelled", metadata: ["address": "\(socket.localAddress)"])
            return
        } catch {
            logger.error("failed", metadata: ["address": "\(socket.localAddress)", "error": "\(error)"])
            throw error
        }
    }

    private func serve(
        socket: AsyncUDPSocket,
        inbound: AsyncUDPSocket.Inbound,
        outbound: AsyncUDPSocket.Outbound
    )
        async throws
    {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await reportDrops(of: socket) }
            defer { group.cancelAll() }
            var replies: [OutboundDatagram] = []
            for try await batch in inbound.batches {
                for datagram in batch.lazy.flatMap(\.splitTrain) {
                    do {
                        if let reply = try await handler(datagram) {
                            replies.append(OutboundDatagram(replyingTo: datagram, with: ByteBuffer(bytes: reply)))
                        }
                    } catch {
                        if Task.isCancelled { throw error }
                        logger.warning("handler failed", metadata: ["peer": "\(datagram.sender)", "error": "\(error)"])
                    }
                }
                if !replies.isEmpty {
                    try await outbound.send(contentsOf: replies)
                    replies.removeAll(keepingCapacity: true)
                }
            }
        }
    }

    /// Logs a warning whenever the kernel's drop counter has grown since the last look.
    private func reportDrops(of socket: AsyncUDPSocket) async {
        var reported = 0
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: dropReportInterval)
            } catch {
                return
            }
            guard let drops = try? await socket.kernelDropCount(), drops > reported else { continue }
            logger.warning(
                "the kernel dropped datagrams: receive queue full",
                metadata: ["new": "\(drops - reported)", "total": "\(drops)", "address": "\(socket.localAddress)"]
            )
            reported = drops
        }
    }
}
