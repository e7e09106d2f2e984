import CUDP
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A UDP socket on SwiftNIO's event loop, used with `async`/`await`: `for try await datagram in inbound`, and
/// `try await outbound.send(bytes, to: peer)`.
///
/// The socket is made and configured by the core `UDP` library, then handed to NIO:
/// ``bind(to:configuration:eventLoopGroup:logger:configure:)`` creates a `UDPSocket`, lets you set its options,
/// binds it, gives its descriptor up (`takeDescriptor()`) and adopts it with `DatagramBootstrap.withBoundSocket`,
/// wrapped in a `NIOAsyncChannel`. So options have one API, the core's, and NIO's reading machinery — vector
/// reads, GRO, backpressure — does the rest.
///
/// ```swift
/// let socket = try await AsyncUDPSocket.bind(to: SocketAddress(parsing: "0.0.0.0:9000")) { socket in
///     try socket.setReceiveBufferSize(1 << 20)
/// }
/// try await socket.executeThenClose { inbound, outbound in
///     for try await datagram in inbound {
///         try await outbound.send(datagram.buffer, to: datagram.sender)
///     }
/// }
/// ```
///
/// **Who owns what.** From `bind` on, the socket owns its descriptor, through NIO's channel: nothing else closes
/// it. ``executeThenClose(isolation:_:)`` (the scoped style NIO recommends) hands the body the inbound sequence
/// and the outbound writer, and closes the socket when the body returns or throws, cancellation included. Call
/// ``close()`` yourself only if you never call `executeThenClose`. The event loop group is not the socket's:
/// nothing here creates it or shuts it down.
///
/// **Sharing an event loop group with a web server.** Pass the group your Vapor or Hummingbird server runs on,
/// and UDP and HTTP share the same threads: `MultiThreadedEventLoopGroup.singleton` (the default here, and
/// Hummingbird's), or Vapor's `app.eventLoopGroup`. Any group of NIOPosix event loops will do; others (NIO
/// Transport Services, `EmbeddedEventLoop`) are refused with `UDPError.Code.invalidArgument`.
///
/// **Cancellation.** Cancelling the task that waits in `for try await` ends the wait at once with
/// `CancellationError` and ends the inbound sequence for good (NIO's async sequences finish when their consumer
/// is cancelled), but closes nothing: the socket stays open for sends until its scope ends.
///
/// **ICMP errors.** NIO reports an ICMP port unreachable as a swallowed `ECONNREFUSED` and reads nothing else of
/// the kind: a socket with the kernel's error queue on (`setReceiveErrors`, send timestamps) is refused with
/// `UDPError.Code.invalidArgument`, because NIO's datagram channel (SwiftNIO 2.101) never reads that queue and
/// resets itself when it holds anything. The core `UDPSocket` reads the queue, typed (`receiveError()`).
///
/// **Backpressure.** NIO buffers at most ``Configuration-swift.struct/backpressure`` read batches for a consumer
/// that is behind, then stops reading; the kernel's receive queue fills and the kernel drops and counts the
/// overflow, which ``kernelDropCount()`` reads.
public struct AsyncUDPSocket: Sendable {
    typealias AsyncChannel = NIOAsyncChannel<ReadBatch, AddressedEnvelope<ByteBuffer>>

    let asyncChannel: AsyncChannel
    let counters: InboundCounters

    /// The address the socket is bound to, with the port the kernel chose for port 0.
    public let localAddress: UDP.SocketAddress
    /// How NIO reads and writes it.
    public let configuration: Configuration

    /// NIO's channel, for what this type does not wrap: `getOption`, `setOption`, multicast through NIO.
    /// Closing it is closing the socket.
    public var channel: any Channel { asyncChannel.channel }

    /// The event loop the socket's I/O runs on.
    public var eventLoop: any EventLoop { asyncChannel.channel.eventLoop }

    init(
        asyncChannel: AsyncChannel,
        counters: InboundCounters,
        localAddress: UDP.SocketAddress,
        configuration: Configuration
    ) {
        self.asyncChannel = asyncChannel
        self.counters = counters
        self.localAddress = localAddress
        self.configuration = configuration
    }
}

// MARK: - Making one

extension AsyncUDPSocket {
    /// Creates a UDP socket with the core library, lets `configure` set its options, binds it and hands it to
    /// NIO.
    ///
    /// - Parameters:
    ///   - address: Where to listen; port 0 lets the kernel pick (read it from ``localAddress``). `[::]` gives a
    ///     dual-stack socket (the core creates IPv6 sockets with `IPV6_V6ONLY` off).
    ///   - configuration: NIO's side: vector reads, GRO/GSO, ECN and packet info, backpressure.
    ///   - eventLoopGroup: The NIOPosix group to run on; share your web server's (see the type's documentation).
    ///   - logger: Where to say what went wrong or was ignored; nil logs nothing.
    ///   - configure: Sets options on the core socket before it is bound: `setReceiveBufferSize`,
    ///     `setReusePort`, `setIPv6Only`, `joinMulticastGroup`… Runs once, synchronously.
    /// - Returns: The socket, open and reading (up to the backpressure limit). You own it: use
    ///   ``executeThenClose(isolation:_:)``, or ``close()``.
    /// - Throws: `UDPError` from creating, configuring or binding the socket; NIO's errors from adopting it.
    public static func bind(
        to address: UDP.SocketAddress,
        configuration: Configuration = Configuration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger? = nil,
        configure: (borrowing UDPSocket) throws -> Void = { _ in }
    ) async throws -> AsyncUDPSocket {
        let socket = try UDPSocket(family: address.family)
        try configure(socket)
        try socket.bind(to: address)
        return try await adopting(socket, configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
    }

    /// Hands a bound core socket to NIO: for a descriptor made elsewhere (systemd socket activation, through
    /// `UDPSocket(adopting:)`), or several `SO_REUSEPORT` sockets on one port.
    ///
    /// - Parameters:
    ///   - socket: A bound socket; it is consumed, and its descriptor is NIO's from here on, closed by the
    ///     returned socket whatever happens (if adopting fails too).
    ///   - configuration: NIO's side: vector reads, GRO/GSO, ECN and packet info, backpressure.
    ///   - eventLoopGroup: The NIOPosix group to run on; share your web server's (see the type's documentation).
    ///   - logger: Where to say what went wrong or was ignored; nil logs nothing.
    /// - Returns: The socket, open and reading (up to the backpressure limit). You own it: use
    ///   ``executeThenClose(isolation:_:)``, or ``close()``.
    /// - Throws: `UDPError` with code `.invalidArgument` when the group is not NIOPosix's, or when the socket
    ///   has its error queue on (see the type's note on ICMP errors); `UDPError` when its local address cannot
    ///   be read; NIO's errors from adopting it.
    public static func adopting(
        _ socket: consuming UDPSocket,
        configuration: Configuration = Configuration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger? = nil
    ) async throws -> AsyncUDPSocket {
        guard let plainBootstrap = DatagramBootstrap(validatingGroup: eventLoopGroup) else {
            throw UDPError(
                .invalidArgument,
                .socket,
                detail: "the event loop group is not a NIOPosix MultiThreadedEventLoopGroup"
            )
        }
        try Self.refuseErrorQueue(socket)
        let localAddress = try socket.localAddress
        let counters = InboundCounters()
        let asyncConfiguration = AsyncChannel.Configuration(
            backPressureStrategy: .init(
                lowWatermark: configuration.backpressure.lowWatermark,
                highWatermark: configuration.backpressure.highWatermark
            )
        )
        // The async `withBoundSocket(_:channelInitializer:)` of NIO 2.101.3 always fails with
        // `ChannelError.operationUnsupported`: it calls `registerAlreadyConfigured0` on an `any Channel`, which
        // reaches the `Channel` extension's stub instead of the channel's own method. So the future-based
        // variant adopts the socket, and the initializer leaves the async wrapper here, made on the event loop
        // before the channel is registered, so no datagram can arrive before it. The initializer also sets the
        // channel options, rather than `channelOption(_:value:)`: that variant leaves a channel whose options or
        // initializer failed open (descriptor and all), and here the initializer can close it.
        let made = Slot<AsyncChannel>()
        let bootstrap = plainBootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                do {
                    try configuration.apply(to: channel)
                    try channel.pipeline.syncOperations.addHandler(ReadBatcher(counters: counters, logger: logger))
                    made.value = try AsyncChannel(
                        wrappingChannelSynchronously: channel,
                        configuration: asyncConfiguration
                    )
                } catch {
                    channel.close(promise: nil)
                    throw error
                }
            }
        }
        let descriptor = socket.takeDescriptor()
        // From here NIO owns the descriptor: DatagramChannel closes it when adopting fails, and the channel
        // closes it when it closes.
        _ = try await bootstrap.withBoundSocket(descriptor).get()
        guard let asyncChannel = made.value else {
            preconditionFailure("withBoundSocket succeeded without running the channel initializer")
        }
        logger?.debug("bound", metadata: ["address": "\(localAddress)"])
        return AsyncUDPSocket(
            asyncChannel: asyncChannel,
            counters: counters,
            localAddress: localAddress,
            configuration: configuration
        )
    }
}

extension AsyncUDPSocket {
    /// Refuses a socket whose error queue can fill (``UDP/UDPSocket/setReceiveErrors(_:)``, send timestamps):
    /// SwiftNIO 2.101 cannot carry one.
    ///
    /// NIO never reads the error queue. When epoll reports `EPOLLERR`, its `DatagramChannel.error()` reads
    /// only `SO_ERROR` and resets the channel unless that is `ECONNREFUSED` or `ENOMEM` (a debug build stops
    /// at an assertion there). A queued entry keeps `EPOLLERR` up with `SO_ERROR` at 0 (a send timestamp, a
    /// local "message too large"), and with `IP_RECVERR` every ICMP error sets `SO_ERROR` (`EHOSTUNREACH` for a
    /// time exceeded, `EMSGSIZE` for a packet too big): the channel would die on the first one. Read ICMP errors
    /// with the core socket instead (``UDP/UDPSocket/receiveError()``).
    static func refuseErrorQueue(_ socket: borrowing UDPSocket) throws {
        let errors = (try? socket.receivesErrors) == true
        let stamps = (try? socket.sendTimestamps) == true
        guard errors || stamps else { return }
        throw UDPError(
            .invalidArgument,
            .socket,
            detail: "\(errors ? "the error queue (IP_RECVERR)" : "send timestamps") cannot be used under SwiftNIO: "
                + "its datagram channel resets itself on the first queued error; read them with the core UDPSocket"
        )
    }
}

extension AsyncUDPSocket.Configuration {
    /// Sets the channel options, on the event loop before the channel is registered, so before the first read.
    fileprivate func apply(to channel: any Channel) throws {
        guard let options = channel.syncOptions else { throw ChannelError.operationUnsupported }
        try options.setOption(.maxMessagesPerRead, value: UInt(maxMessagesPerRead))
        // NIO cuts ONE buffer of this capacity into vectorReadMessageCount slots (its default of 2048 bytes would
        // leave 32 bytes per datagram with 64-message vector reads).
        try options.setOption(
            .recvAllocator,
            value: FixedSizeRecvByteBufferAllocator(capacity: slotSize * max(1, vectorReadMessageCount))
        )
        if vectorReadMessageCount > 0 {
            try options.setOption(.datagramVectorReadMessageCount, value: vectorReadMessageCount)
        }
        if receiveOffload {
            try options.setOption(.datagramReceiveOffload, value: true)
            try options.setOption(.datagramReceiveSegmentSize, value: true)
        }
        if let segmentSize {
            try options.setOption(.datagramSegmentSize, value: CInt(clamping: segmentSize))
        }
        if explicitCongestionNotification {
            try options.setOption(.explicitCongestionNotification, value: true)
        }
        if receivePacketInfo {
            try options.setOption(.receivePacketInfo, value: true)
        }
    }
}

// MARK: - Using one

extension AsyncUDPSocket {
    /// Runs `body` with the socket's inbound sequence and outbound writer, then closes the socket, whether
    /// `body` returns or throws (cancellation included). Call it once.
    ///
    /// - Parameters:
    ///   - actor: The actor `body` runs on; the caller's, by default.
    ///   - body: Receives from `inbound` (once, from one task) and sends through `outbound` (from any number of
    ///     tasks); it may return a value.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws; an error in closing the socket is not reported (it is closed either way).
    public func executeThenClose<Result>(
        isolation actor: isolated (any Actor)? = #isolation,
        _ body: (_ inbound: Inbound, _ outbound: Outbound) async throws -> sending Result
    ) async throws -> sending Result {
        let options = configuration.receiveOptions
        let counters = counters
        return try await asyncChannel.executeThenClose(isolation: actor) { inbound, outbound in
            try await body(
                Inbound(stream: inbound, counters: counters, options: options),
                Outbound(writer: outbound, channel: asyncChannel.channel)
            )
        }
    }

    /// Closes the socket of an ``AsyncUDPSocket`` whose ``executeThenClose(isolation:_:)`` was never called.
    /// Closing one that is already closed does nothing.
    public func close() async throws {
        do {
            try await asyncChannel.channel.close()
        } catch ChannelError.alreadyClosed {
            return
        }
    }

    /// Ends ``Inbound`` gracefully: datagrams NIO has already read are still delivered, then the `for try await`
    /// loop ends normally; nothing more is read (datagrams still in the kernel's queue are dropped when the
    /// socket closes). Sending still works. ``UDPServer`` calls this on graceful shutdown to drain.
    public func stopReceiving() {
        let channel = asyncChannel.channel
        channel.eventLoop.execute {
            channel.setOption(.autoRead, value: false).whenComplete { _ in
                channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            }
        }
    }

    /// What has passed through the inbound buffer: how much a slow consumer has left waiting, now and at most.
    public var statistics: InboundStatistics { counters.snapshot }

    /// The kernel's count of datagrams dropped for this socket because its receive queue was full: what
    /// backpressure costs when the consumer is too slow for too long. It is the counter that `SO_RXQ_OVFL`
    /// reports (`sk_drops`), read with `getsockopt(SO_MEMINFO)` on the event loop, because NIO reads datagrams
    /// in batches and drops ancillary data it does not know. Cumulative since the socket was created.
    public func kernelDropCount() async throws -> Int {
        #if !os(Linux)
        throw UDPError(.unsupported, .getOption, detail: "SO_MEMINFO is Linux-only")
        #else
        guard let provider = asyncChannel.channel as? any SocketOptionProvider else {
            throw UDPError(.unsupported, .getOption, detail: "the channel does not expose socket options")
        }
        let info: MemoryInfo = try await provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET),
            name: SocketOptionName(memoryInfoOption)
        ).get()
        return Int(info.drops)
        #endif
    }

    /// Counters of the inbound buffer between NIO's event loop and the consumer.
    public struct InboundStatistics: Sendable, Hashable {
        /// Datagrams NIO has read from the socket (GRO trains count once).
        public var datagramsReceived: Int
        /// Datagrams read but not yet taken by the consumer.
        public var datagramsBuffered: Int
        /// The most datagrams ever waiting for the consumer: at most `peakBatchesBuffered × maximumBatchSize`.
        public var peakDatagramsBuffered: Int
        /// Read batches waiting for the consumer.
        public var batchesBuffered: Int
        /// The most read batches ever waiting: at most `backpressure.highWatermark` while nobody reads. A batch
        /// counts until the consumer holds it, and NIO may read the next one as soon as the consumer takes one,
        /// so while the consumer reads this can show one more than NIO's buffer holds.
        public var peakBatchesBuffered: Int
        /// Recoverable read errors (`ECONNREFUSED`, `ENOMEM`) that were ignored instead of ending the loop.
        public var errorsIgnored: Int
    }
}

/// A value handed from the event loop to the task that waits for it.
private final class Slot<Value: Sendable>: Sendable {
    private let storage = NIOLockedValueBox<Value?>(nil)
    var value: Value? {
        get { storage.withLockedValue { $0 } }
        set { storage.withLockedValue { $0 = newValue } }
    }
}

/// `SO_MEMINFO` (Linux 3.17+): the socket's memory counters, `SK_MEMINFO_DROPS` last (Linux 4.6+).
private let memoryInfoOption: CInt = cudp_SO_MEMINFO

/// The `u32 [SK_MEMINFO_VARS]` array `SO_MEMINFO` fills; the kernel copies no more than asked for.
private struct MemoryInfo: Sendable {
    // swift-format-ignore
    var values: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
    var drops: UInt32 { values.8 }  // SK_MEMINFO_DROPS
}
