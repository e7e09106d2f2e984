import UDP
import UDPPatterns

/// Everything an ``AsyncRequestReplyClient`` changes, kept behind its one lock: the sans-I/O client, and for
/// each of its requests the destination and the task waiting for the outcome.
///
/// Methods return the continuations to resume rather than resuming them, so nothing runs under the lock.
struct RequestTable: Sendable {
    typealias Waiter = CheckedContinuation<[UInt8], any Error>

    /// A caller to resume with an outcome, once the lock is released.
    struct Resumption: Sendable {
        var waiter: Waiter
        var outcome: Result<[UInt8], any Error>

        func resume() { waiter.resume(with: outcome) }
    }

    /// What was due when the transmit loop looked.
    struct Round: Sendable {
        var datagrams: [OutboundDatagram] = []
        var requestIDs: [RequestID] = []
        var resumptions: [Resumption] = []
        var deadline: MonotonicInstant?
    }

    private struct Entry: Sendable {
        var destination: UDP.SocketAddress
        // Set when the caller has started waiting.
        var waiter: Waiter?
        // Set when the outcome came before the caller waited.
        var outcome: Result<[UInt8], any Error>?
    }

    var client: RequestReplyClient
    var counters = AsyncRequestReplyClient.Counters()
    private var entries: [RequestID: Entry] = [:]
    // Why new requests are refused, once the client can no longer serve them.
    private var closedReason: (any Error)?

    init(client: RequestReplyClient) {
        self.client = client
    }

    /// Starts a request for `destination`.
    mutating func start(
        _ payload: [UInt8],
        to destination: UDP.SocketAddress,
        now: MonotonicInstant
    ) throws -> RequestID {
        if let closedReason { throw closedReason }
        let id = try client.start(payload, now: now)
        entries[id] = Entry(destination: destination)
        return id
    }

    /// Records that the caller of `id` waits; returns its outcome at once if it is already known.
    mutating func wait(for id: RequestID, _ waiter: Waiter) -> Resumption? {
        guard let outcome = entries[id]?.outcome else {
            entries[id]?.waiter = waiter
            return nil
        }
        entries[id] = nil
        return Resumption(waiter: waiter, outcome: outcome)
    }

    /// Abandons `id` if it is still in flight (its caller was cancelled).
    mutating func cancel(_ id: RequestID) -> Resumption? {
        guard client.cancel(id) else { return nil }  // already answered or failed: that outcome stands
        return finish(id, .failure(CancellationError()))
    }

    /// Hands one arriving datagram to the client.
    mutating func handle(_ datagram: InboundDatagram, now: MonotonicInstant) -> Resumption? {
        datagram.buffer.withUnsafeReadableBytes { bytes in
            // A reply must come from where its request went, as a DNS resolver insists: the 64-bit id is
            // hard to guess, but this costs nothing and keeps other peers from answering.
            if let header = try? FrameHeader(decoding: bytes), let id = header.requestID,
                let entry = entries[id], entry.outcome == nil,
                entry.destination.unmapped != datagram.sender.unmapped
            {
                counters.wrongSender += 1
                return nil
            }
            guard case .completed(let id, let payload) = client.handleDatagram(bytes, now: now) else { return nil }
            return finish(id, .success(payload))
        }
    }

    /// Acts on expired waits, then collects the datagrams due, the failures, and the next deadline.
    mutating func poll(now: MonotonicInstant) -> Round {
        client.handleTimeout(now: now)
        var round = Round()
        while let transmit = client.pollTransmit(now: now) {
            // Every request the client sends was started here, with its destination.
            guard let destination = entries[transmit.requestID]?.destination else { continue }
            round.datagrams.append(OutboundDatagram(transmit.bytes, to: destination))
            round.requestIDs.append(transmit.requestID)
        }
        while let event = client.pollEvent() {
            if case .failed(let id, let error) = event, let resumption = finish(id, .failure(error)) {
                round.resumptions.append(resumption)
            }
        }
        round.deadline = client.nextDeadline
        return round
    }

    /// Fails the requests whose datagrams the socket would not take.
    mutating func failSends(_ ids: [RequestID], _ error: any Error) -> [Resumption] {
        counters.sendFailures += ids.count
        return ids.compactMap { id in client.cancel(id) ? finish(id, .failure(error)) : nil }
    }

    /// Refuses new requests from now on and fails those in flight with `reason`.
    mutating func close(_ reason: any Error) -> [Resumption] {
        if closedReason == nil { closedReason = reason }
        return entries.keys.compactMap { id in client.cancel(id) ? finish(id, .failure(reason)) : nil }
    }

    /// Ends `id` with `outcome`: hands it to its waiting caller, or keeps it for the caller about to wait.
    private mutating func finish(_ id: RequestID, _ outcome: Result<[UInt8], any Error>) -> Resumption? {
        guard let waiter = entries[id]?.waiter else {
            entries[id]?.outcome = outcome
            return nil
        }
        entries[id] = nil
        return Resumption(waiter: waiter, outcome: outcome)
    }
}
