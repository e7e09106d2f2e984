#if Sealing
import UDP
import UDPPatterns
import UDPSeal

extension Reflector {
    /// Sealed datagrams: every request is opened (and refused unless it authenticates), every reply sealed.
    public struct Sealing: Sendable {
        /// Shared by every worker of a server, so that a replayed datagram is refused whichever socket it
        /// reaches.
        public var opener: SharedOpener
        /// Seals the replies. Make it for the reply direction (`Sealer(key:direction: .reply)`): a client's
        /// opener takes replies only, so that its own requests reflected back are refused.
        public var sealer: Sealer
        /// - Parameters:
        ///   - opener: Opens the requests; share one between the workers of a server.
        ///   - sealer: Seals the replies.
        public init(opener: SharedOpener, sealer: Sealer) {
            self.opener = opener
            self.sealer = sealer
        }
    }

    /// A reflector of sealed datagrams (the package trait `Sealing`).
    ///
    /// - Parameters:
    ///   - prefix: Bytes put before each reply, inside the seal.
    ///   - batchSize: Datagrams (or trains) received per system call.
    ///   - admission: Per-source rate limit; sources that authenticate are validated, so the amplification
    ///     guard leaves them alone.
    ///   - sealing: Open every request and seal every reply with a pre-shared key (`UDPSeal`).
    public init(prefix: [UInt8] = [], batchSize: Int = 64, admission: PeerAdmission.Policy? = nil, sealing: Sealing) {
        self.init(prefix: prefix, batchSize: batchSize, admission: admission)
        self.sealing = sealing
        replies = DatagramBatch(capacity: batchSize)
    }

    /// The opener's counts by kind of rejection, when sealing.
    public var rejections: Opener.Counters? { (sealing as? Sealing)?.opener.counters }

    /// Opens each datagram of the batch, and answers those that authenticate with a sealed reply.
    fileprivate mutating func answerSealed(
        _ slots: Int,
        with sealing: inout Sealing,
        at now: MonotonicInstant,
        send: BatchSend
    ) {
        replies.removeAll()
        for slot in 0..<slots {
            for segment in 0..<incoming.segmentCount(at: slot) {
                guard let opened = try? sealing.opener.open(incoming.segment(segment, at: slot)) else {
                    counters.rejected += 1
                    continue
                }
                if admission != nil {
                    let verdict = admission!.admit(
                        incoming.peer(at: slot),
                        datagrams: 1,
                        requestBytes: opened.payload.count,
                        replyBytes: opened.payload.count,
                        now: now,
                        validated: true
                    )
                    if verdict != .admitted {
                        counters.rateLimited += 1
                        continue
                    }
                }
                // The prefix and the seal may make it larger than a datagram: counted, never dropped unseen,
                // and found before the sealing, which would spend a sequence number on nothing.
                let replySize = prefix.count + opened.payload.count + SealedEnvelope.overhead
                guard replySize <= Self.replyLimit else {
                    counters.failed += 1
                    events.append(.sendFailed(Self.replyTooLarge(replySize, to: incoming.peer(at: slot))))
                    continue
                }
                let reply = sealing.sealer.seal(prefix + opened.payload)
                if replies.count == replies.capacity {
                    Self.sendAll(&replies, send, &counters, &events)
                    replies.removeAll()
                }
                replies.appendReply(to: slot, of: incoming) { buffer in
                    guard reply.count <= buffer.count else { return -1 }
                    buffer.copyBytes(from: reply)
                    return reply.count
                }
            }
        }
        Self.sendAll(&replies, send, &counters, &events)
    }
}

extension Reflector.Sealing: ReflectorSealing {
    mutating func answer(_ slots: Int, of reflector: inout Reflector, at now: MonotonicInstant, send: BatchSend) {
        reflector.answerSealed(slots, with: &self, at: now, send: send)
    }
}
#endif
