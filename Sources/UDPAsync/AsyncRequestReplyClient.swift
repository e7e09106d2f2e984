import NIOConcurrencyHelpers
import UDP
import UDPPatterns

/// Request/reply over one ``AsyncUDPSocket``, for any number of concurrent callers: each request is framed with
/// a request id, resent on a `RetryPolicy` (per-attempt timeout, exponential backoff, jitter, overall deadline)
/// and matched to its reply by that id. The logic is UDPPatterns' sans-I/O `RequestReplyClient`, the one
/// `udp send --framed` drives; this type only gives it a socket and a clock. It speaks to `udp echo --framed`,
/// ``IdempotentUDPServer``, or anything that answers UDPPatterns frames.
///
/// ```swift
/// let socket = try await AsyncUDPSocket.bind(to: .any(.inet))
/// try await socket.executeThenClose { inbound, outbound in
///     let policy = RetryPolicy(attempts: 4, timeout: .milliseconds(200), jitter: .full)
///     try await AsyncRequestReplyClient.withClient(inbound: inbound, outbound: outbound, policy: policy) { client in
///         let reply = try await client.request(Array("balance".utf8), to: server)
///     }
/// }
/// ```
///
/// **Why a scope around the socket's inbound and outbound.** ``AsyncUDPSocket/Inbound`` can be iterated once:
/// leaving or cancelling the loop ends NIO's stream for good. So a timeout cannot be a receive raced against a
/// sleep (the first lost race would end reading); instead one reader task lives as long as the scope and hands
/// every datagram to the sans-I/O client, and one transmit task sleeps until the client's next deadline (or
/// until a new request wakes it) and sends what is due. Both are child tasks of
/// ``withClient(isolation:inbound:outbound:policy:budget:maximumOutstanding:_:)``, so they cannot outlive it.
/// Taking the inbound and outbound from ``AsyncUDPSocket/executeThenClose(isolation:_:)``, rather than the
/// socket, leaves the socket with its owner: the client closes nothing, and the owner may go on sending through
/// `outbound` (but not receiving: the client's reader is the one consumer of `inbound`).
///
/// **Outcomes.** ``request(_:to:)`` returns the reply's payload, or throws `RequestError.noReply(attempts:)` when
/// every attempt went unanswered, `RequestError.deadlineExceeded` when the policy's deadline passed first,
/// `CancellationError` as soon as the calling task is cancelled (nothing more is sent for it), or
/// `RequestReplyClient.StartError` when too many requests are in flight or the payload is too large. A reply
/// is delivered only to the request whose id it carries, and only when it comes from the address the request
/// went to; duplicates and late replies are dropped and counted in ``counters``.
public final class AsyncRequestReplyClient: Sendable {
    /// What the client has done and seen.
    public struct Counters: Sendable, Hashable {
        /// The sans-I/O client's counters: started, completed, failed, cancelled, transmitted, retransmitted,
        /// duplicates, late, unknown and malformed. Requests ended because the socket refused their datagrams,
        /// or because the client's scope ended, count as cancelled there.
        public var requests = RequestReplyClient.Counters()
        /// Replies carrying the id of a request in flight but coming from another address: dropped.
        public var wrongSender = 0
        /// Datagrams the socket refused (it was closed); their requests failed with the socket's error.
        public var sendFailures = 0

        /// All zero.
        public init() {}
    }

    /// Why a request ended without a reply because the client, not the request, stopped.
    public enum Closed: Error, Sendable, Hashable, CustomStringConvertible {
        /// The scope of
        /// ``AsyncRequestReplyClient/withClient(isolation:inbound:outbound:policy:budget:maximumOutstanding:_:)``
        /// ended while the request was in flight.
        case scopeEnded
        /// The socket stopped receiving (it closed, or ``AsyncUDPSocket/stopReceiving()`` was called), so no
        /// reply could arrive.
        case inboundEnded

        /// A sentence for people.
        public var description: String {
            switch self {
            case .scopeEnded: "the request/reply client's scope ended"
            case .inboundEnded: "the socket stopped receiving"
            }
        }
    }

    private let table: NIOLockedValueBox<RequestTable>
    private let doorbell = Doorbell()

    private init(client: RequestReplyClient) {
        self.table = NIOLockedValueBox(RequestTable(client: client))
    }

    /// Runs `body` with a client that sends through `outbound` and reads every datagram from `inbound`, then
    /// stops its reader and transmit tasks and fails any request still in flight with ``Closed/scopeEnded``.
    ///
    /// - Parameters:
    ///   - actor: The actor `body` runs on; the caller's, by default.
    ///   - inbound: The socket's inbound datagrams; this client becomes their one consumer, for good.
    ///   - outbound: Where requests are sent; others may send through it too.
    ///   - policy: Attempts, waits, backoff, jitter and deadline of every request.
    ///   - budget: The largest request datagram, frame header included.
    ///   - maximumOutstanding: Requests in flight at most; more are refused with
    ///     `RequestReplyClient.StartError.tooManyOutstanding`.
    ///   - body: Makes requests, from as many tasks as it likes.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public static func withClient<Result: Sendable>(
        isolation actor: isolated (any Actor)? = #isolation,
        inbound: AsyncUDPSocket.Inbound,
        outbound: AsyncUDPSocket.Outbound,
        policy: RetryPolicy,
        budget: DatagramBudget = .internet,
        maximumOutstanding: Int = 1024,
        _ body: (AsyncRequestReplyClient) async throws -> Result
    ) async throws -> Result {
        let client = AsyncRequestReplyClient(
            client: RequestReplyClient(policy: policy, budget: budget, maximumOutstanding: maximumOutstanding)
        )
        return try await withThrowingTaskGroup(of: Void.self, isolation: actor) { group in
            group.addTask { await client.readReplies(from: inbound) }
            group.addTask { await client.transmit(through: outbound) }
            defer {
                client.close(.scopeEnded)
                group.cancelAll()
            }
            return try await body(client)
        }
    }

    /// Sends `payload` to `destination`, resending it as the policy says, and returns the reply's payload.
    ///
    /// Any number of tasks may call this at once; their requests share the socket and are told apart by id.
    ///
    /// - Throws: `RequestError` when the policy gives up; `CancellationError` when the calling task is
    ///   cancelled; `RequestReplyClient.StartError` when the request is refused; ``Closed`` when the client
    ///   stopped; the socket's error when it refused the datagram.
    public func request(_ payload: [UInt8], to destination: UDP.SocketAddress) async throws -> [UInt8] {
        try Task.checkCancellation()
        let id = try table.withLockedValue { table in try table.start(payload, to: destination, now: .now()) }
        doorbell.ring()  // its first attempt is due now
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (waiter: RequestTable.Waiter) in
                table.withLockedValue { table in table.wait(for: id, waiter) }?.resume()
            }
        } onCancel: {
            table.withLockedValue { table in table.cancel(id) }?.resume()
        }
    }

    /// What the client has done and seen so far.
    public var counters: Counters {
        table.withLockedValue { table in
            var counters = table.counters
            counters.requests = table.client.counters
            return counters
        }
    }

    /// Requests in flight.
    public var outstandingCount: Int { table.withLockedValue { table in table.client.outstandingCount } }

    /// Fails what is in flight with `reason` and refuses new requests.
    private func close(_ reason: Closed) {
        for resumption in table.withLockedValue({ table in table.close(reason) }) { resumption.resume() }
        doorbell.ring()
    }
}

// MARK: - The reader and transmit tasks

extension AsyncRequestReplyClient {
    /// The one consumer of the socket's datagrams, for the client's whole life: a read batch is handled under
    /// one lock.
    private func readReplies(from inbound: AsyncUDPSocket.Inbound) async {
        do {
            for try await batch in inbound.batches {
                let now = MonotonicInstant.now()
                let resumptions = table.withLockedValue { table in
                    var resumptions: [RequestTable.Resumption] = []
                    for datagram in batch.lazy.flatMap(\.splitTrain) {
                        if let resumption = table.handle(datagram, now: now) { resumptions.append(resumption) }
                    }
                    return resumptions
                }
                for resumption in resumptions { resumption.resume() }
            }
        } catch {
            // Cancelled because the scope ended, or the socket failed: either way no reply can come now.
        }
        close(.inboundEnded)
    }

    /// Sends what is due, then sleeps until the next deadline or until a new request rings.
    private func transmit(through outbound: AsyncUDPSocket.Outbound) async {
        while !Task.isCancelled {
            let round = table.withLockedValue { table in table.poll(now: .now()) }
            for resumption in round.resumptions { resumption.resume() }
            if !round.datagrams.isEmpty {
                do {
                    // One write and one flush for everything due (sendmmsg), as a burst of new requests is.
                    try await outbound.send(contentsOf: round.datagrams)
                } catch {
                    let failed = table.withLockedValue { table in table.failSends(round.requestIDs, error) }
                    for resumption in failed { resumption.resume() }
                }
            }
            await doorbell.wait(until: round.deadline)
        }
    }
}
