import UDP
import UDPPatterns

/// The engine of `udp send --framed`, as a `DatagramMachine`: UDPPatterns' sans-I/O `RequestReplyClient`
/// frames each request with a request id and retries it on its policy, so replies are matched by that id and a
/// late reply to an earlier attempt or message never passes for this one's.
///
/// One request at a time: ``start(_:at:)`` begins one, and its driver runs it until it is answered or given up
/// (``outcome``), or a delivery error or a failed send stops it (``failure``).
///
/// ```swift
/// var client = FramedClient(destination: server, policy: RetryPolicy(attempts: 3, timeout: .seconds(1)))
/// try client.start(Array("hi".utf8), at: .now())
/// try MachineDriver(stop: stop).run(&client, on: socket) { event in print(event) }
/// print(client.outcome)   // .success(reply) or .failure(.noReply(attempts: 3))
/// ```
public struct FramedClient: DatagramMachine {
    /// What happened, for a caller that prints.
    public enum Event {
        /// Attempt `attempt` (from 1) of request `requestID` went out.
        case sent(requestID: RequestID, attempt: Int)
        /// A datagram that was no reply to this request, and why.
        case ignored(IgnoredReason)
    }

    /// Why a datagram was not taken as the reply.
    public enum IgnoredReason: Sendable, Hashable, CustomStringConvertible {
        /// The request/reply client's reason: a duplicate, a late reply, an unknown id, not a framed reply.
        case reply(ClientEvent.Ignored)
        /// It came from another address than the server.
        case foreignSender
        /// No request was in flight.
        case notAwaited

        /// What it was, for people: the request/reply client's words (`a duplicate reply`).
        public var description: String {
            switch self {
            case .reply(let reason): reason.description
            case .foreignSender: "a datagram from another address than the server"
            case .notAwaited: "a datagram when no reply was awaited"
            }
        }
    }

    /// Why a request ended without a reply.
    public struct Failure: Error, CustomStringConvertible {
        /// The client's reason (no reply after N attempts, deadline passed…).
        public var reason: RequestError
        /// Datagrams came back that were no framed replies: an unframed echo answers like that.
        public var sawUnframedReplies: Bool

        /// The reason, and a hint when an unframed echo seems to answer.
        public var description: String {
            var text = "\(reason)"
            if sawUnframedReplies {
                // An RFC 862 echo sends the request frame back: it arrives, but is no reply.
                text += " (datagrams came back, but not as framed replies: is the server `udp echo --framed`?)"
            }
            return text
        }
    }

    /// The server, `udp echo --framed` or another `IdempotentServer`.
    public let destination: SocketAddress
    /// The sans-I/O client, with its counters.
    public private(set) var client: RequestReplyClient
    /// How the request in flight ended: its reply, or why none came; nil while it is in flight.
    public private(set) var outcome: Result<[UInt8], Failure>?
    /// What stopped the request: a delivery error about it, or a send that failed. The caller throws it.
    public private(set) var failure: ExchangeFailure?
    /// Datagrams from another address than the server, and datagrams when no request was in flight.
    public private(set) var foreignSenders = 0
    /// See ``IgnoredReason/notAwaited``.
    public private(set) var notAwaited = 0
    /// Delivery errors that quoted another destination, or came when nothing was in flight.
    public private(set) var ignoredDeliveryErrors = 0

    private var current: RequestID?
    // Attempts handed to the driver, waiting for their send reports (one at a time in practice).
    private var unreported: [(requestID: RequestID, attempt: Int)] = []
    // Events are one per input at most (a send, an ignored datagram); a bound all the same.
    private var events = MachineQueue<Event>(limit: 256)

    /// - Parameters:
    ///   - destination: The server.
    ///   - policy: Attempts and their waits, for every request (`RetryPolicy` of UDPPatterns).
    ///   - generator: Randomness for the first request id and the policy's jitter; a seeded one for tests.
    public init(
        destination: SocketAddress,
        policy: RetryPolicy,
        generator: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.destination = destination
        client = RequestReplyClient(policy: policy, maximumOutstanding: 1, generator: generator)
    }

    /// Starts a request for `payload`; its first attempt goes out at the next ``pollTransmit(at:)``, and the
    /// policy's deadline counts from `now`.
    ///
    /// - Returns: The request's id.
    /// - Throws: `RequestReplyClient.StartError` when the payload cannot be framed.
    @discardableResult
    public mutating func start(
        _ payload: [UInt8],
        at now: MonotonicInstant
    ) throws(RequestReplyClient.StartError) -> RequestID {
        if let current { client.cancel(current) }
        outcome = nil
        failure = nil
        unreported.removeAll()
        let id = try client.start(payload, now: now)
        current = id
        return id
    }

    /// True once the request is answered, given up, or stopped by a failure.
    public var isFinished: Bool { current == nil }

    /// The end of the attempt's wait, or the policy's deadline.
    public var nextDeadline: MonotonicInstant? { client.nextDeadline }

    /// The attempt due, framed.
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        defer { takeFailures() }
        guard let transmit = client.pollTransmit(now: now) else { return nil }
        unreported.append((transmit.requestID, transmit.attempt))
        return OutboundDatagram(transmit.bytes, to: destination)
    }

    /// Reports the attempt that went out, or ends the request on a send that failed.
    public mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        switch report {
        case .sent:
            guard !unreported.isEmpty else { return }
            let sent = unreported.removeFirst()
            post(.sent(requestID: sent.requestID, attempt: sent.attempt))
        case .failed(_, _, let error):
            if !unreported.isEmpty { unreported.removeFirst() }
            guard let current else { return }
            client.cancel(current)
            self.current = nil
            failure = .socketError(error)
        case .kernelTimestamp:
            break
        }
    }

    /// The reply, matched by request id, or a datagram ignored with its reason.
    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        guard let current else {
            notAwaited += 1
            return post(.ignored(.notAwaited))
        }
        guard datagram.sender.unmapped == destination.unmapped else {
            foreignSenders += 1
            return post(.ignored(.foreignSender))
        }
        switch client.handleDatagram(datagram.payload, now: now) {
        case .completed(current, let reply):
            outcome = .success(reply)
            self.current = nil
        case .ignored(let reason):
            post(.ignored(.reply(reason)))
        case .completed, .failed:
            // Another request's: with one in flight at a time, there is none.
            break
        }
    }

    /// An ICMP error about the request (it quotes the server) ends it, as a connected socket's receive failing
    /// with it did.
    public mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        guard let current, error.destination.unmapped == destination.unmapped else {
            ignoredDeliveryErrors += 1
            return
        }
        client.cancel(current)
        self.current = nil
        failure = .deliveryError(error)
    }

    /// The end of an attempt's wait or of the deadline: the next attempt is queued, or the request fails.
    public mutating func handleTimeout(at now: MonotonicInstant) {
        client.handleTimeout(now: now)
        takeFailures()
    }

    /// The next event, in order.
    public mutating func pollEvent() -> Event? {
        events.poll()
    }

    /// Takes the request/reply client's failures: the request in flight gave up.
    private mutating func takeFailures() {
        while let event = client.pollEvent() {
            guard case .failed(let id, let error) = event, id == current else { continue }
            outcome = .failure(Failure(reason: error, sawUnframedReplies: client.counters.malformed > 0))
            current = nil
        }
    }

    private mutating func post(_ event: Event) {
        events.append(event)
    }
}
