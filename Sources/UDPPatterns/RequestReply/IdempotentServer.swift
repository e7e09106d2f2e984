import UDP

/// The server half of request/reply over UDP, sans-I/O: decodes a framed request, runs the handler at most
/// once per (peer, request id) within the cache's time to live, and frames the reply. A client that retries
/// because its first reply was lost gets the reply the handler already produced, so a request that is not
/// safe to repeat ("debit 10") is still carried out once.
///
/// ```swift
/// var server = IdempotentServer<SocketAddress>(timeToLive: .seconds(30), capacity: 4096)
/// while true {
///     let request = try socket.receive(maximumSize: 65_535)
///     if let reply = server.respond(to: request.payload, from: request.sender, now: .now(), handler: handle) {
///         try socket.send(reply, to: request.sender)
///     }
/// }
/// ```
///
/// The reply frame carries the request's id and echoes its sequence number, and is marked as a reply.
/// Malformed datagrams (not a frame, a reply, or a frame without a request id) get no answer: answering
/// garbage from a forged source would make the server a reflector.
public struct IdempotentServer<Peer: Hashable & Sendable>: Sendable {
    /// What the server has done.
    public struct Counters: Sendable, Hashable {
        /// Requests whose handler ran.
        public var handled = 0
        /// Retries answered from the cache without running the handler.
        public var servedFromCache = 0
        /// Datagrams that were not well-formed requests, left unanswered.
        public var malformed = 0
        /// Replies longer than a frame can carry (65,535 bytes), left unsent.
        public var unsendable = 0

        /// All zero.
        public init() {}
    }

    /// The replies sent recently.
    public private(set) var cache: ReplyCache<Peer>
    /// What the server has done so far.
    public private(set) var counters = Counters()

    /// Creates a server.
    ///
    /// - Parameters:
    ///   - timeToLive: How long a reply is replayed to retries: at least the longest a client keeps
    ///     retrying.
    ///   - capacity: The most replies remembered.
    ///   - maximumBytes: The most bytes of replies remembered, all together.
    public init(timeToLive: Duration, capacity: Int = 4096, maximumBytes: Int = 16 << 20) {
        self.cache = ReplyCache(timeToLive: timeToLive, capacity: capacity, maximumBytes: maximumBytes)
    }

    /// Answers one datagram.
    ///
    /// - Parameters:
    ///   - datagram: What arrived.
    ///   - peer: Who sent it.
    ///   - now: The current time, for the cache.
    ///   - handler: Computes the reply payload from the request payload; runs at most once per (peer, id)
    ///     within the time to live. If it throws, nothing is cached, the error propagates, and a retry runs
    ///     it again.
    /// - Returns: The reply datagram to send to `peer`, or nil to send nothing.
    public mutating func respond<Failure: Error>(
        to datagram: some Collection<UInt8>,
        from peer: Peer,
        now: MonotonicInstant,
        handler: ([UInt8]) throws(Failure) -> [UInt8]
    ) throws(Failure) -> [UInt8]? {
        guard let request = try? Frame(decoding: datagram), !request.header.isReply,
            let id = request.header.requestID
        else {
            counters.malformed += 1
            return nil
        }
        let payload: [UInt8]
        if let cached = cache.lookup(peer, id, now: now) {
            counters.servedFromCache += 1
            payload = cached
        } else {
            payload = try handler(request.payload)
            counters.handled += 1
            cache.store(payload, for: peer, id, now: now)
        }
        let header = FrameHeader(sequence: request.header.sequence, requestID: id, isReply: true)
        guard let reply = try? Frame(header: header, payload: payload).encoded() else {
            counters.unsendable += 1
            return nil
        }
        return reply
    }
}
