import UDP
import UDPPatterns

/// The engine of `udp echo`: receives a batch of datagrams (GRO trains included) and answers every datagram
/// to its own sender, with buffers allocated once, so the steady state allocates nothing per datagram.
///
/// Without a prefix the received batch goes straight back: each slot still holds its sender, and a train
/// goes back as one GSO send of the same segment size. With a prefix each datagram is copied behind the
/// prefix into a reply batch; a train's replies stay a train (segment size + prefix), split where one GSO
/// send would exceed the datagram limit.
///
/// Every reply goes out from the address its request was sent to, when the socket is bound to a wildcard
/// address (`0.0.0.0`, `::`) on a host with several: ``run(_:until:reportInterval:report:observe:sendFailed:)``
/// turns packet info on for that (``answerFromTheAddressAsked(on:)``), and each reply slot carries its
/// request's destination as its source, trains included. On a specific address nothing changes.
///
/// ```swift
/// var reflector = Reflector(prefix: Array("ack: ".utf8))
/// try reflector.run(socket, until: stop)  // or, a batch at a time: reflector.reflectNextBatch(socket)
/// ```
public struct Reflector: ~Copyable {
    /// What a reflector did, summed over workers at exit.
    public struct Counters: Sendable, Equatable {
        /// Datagrams received (each datagram of a train counts).
        public var received = 0
        /// Datagrams answered.
        public var replied = 0
        /// Datagrams not answered: the reply would exceed the datagram limit, or the send failed.
        public var failed = 0
        /// Datagrams that arrived truncated (never with the 64 KiB buffers used here).
        public var truncated = 0
        /// The kernel's count of datagrams dropped for this socket because its receive queue was full, as last
        /// reported (`SO_RXQ_OVFL`; only when `UDPSocket.setReceiveDropCount(_:)` is on).
        public var kernelDrops = 0
        /// Datagrams not answered because their source exceeded its rate (``PeerAdmission``).
        public var rateLimited = 0
        /// Datagrams not answered because the reply would exceed the source's amplification budget.
        public var amplificationLimited = 0
        /// Datagrams refused because they did not open under the key (forged, corrupted, replayed, unknown key).
        public var rejected = 0
        /// ICMP errors that replies drew, by kind, when the socket's error queue is on
        /// (`UDPSocket.setReceiveErrors(_:)`): peers gone (port unreachable) or out of reach.
        public var icmpErrors = ICMPErrorCounts()

        /// All counts zero.
        public init() {}

        /// Each count added, ICMP errors kind by kind: how a server sums up its workers. ``kernelDrops`` is
        /// added too, as each worker's socket has a drop count of its own.
        public static func + (lhs: Counters, rhs: Counters) -> Counters {
            var sum = lhs
            sum.received += rhs.received
            sum.replied += rhs.replied
            sum.failed += rhs.failed
            sum.truncated += rhs.truncated
            sum.kernelDrops += rhs.kernelDrops
            sum.rateLimited += rhs.rateLimited
            sum.amplificationLimited += rhs.amplificationLimited
            sum.rejected += rhs.rejected
            sum.icmpErrors = sum.icmpErrors + rhs.icmpErrors
            return sum
        }
    }

    /// The bytes put before each reply; empty for an RFC 862 echo.
    public let prefix: [UInt8]
    /// Running totals.
    public internal(set) var counters = Counters()
    // Internal rather than private: the sealed path (Reflector+Sealing.swift) answers from these too.
    var incoming: DatagramBatch
    var replies: DatagramBatch
    var admission: PeerAdmission?
    /// The sealed path, with the package trait `Sealing` (Reflector+Sealing.swift); nil answers in the clear.
    var sealing: (any ReflectorSealing)?
    /// What it has to tell: reports, and datagrams it could not answer. Drained by its driver after every
    /// batch, so it holds one batch's failures at most; bounded all the same.
    var events = MachineQueue<Event>(limit: 4096)
    /// How often a ``Event/report(_:)`` is due, and when the next one is.
    var reportInterval: Duration?
    var nextReport: MonotonicInstant?

    /// Where the counters are published, if anywhere; set ``metrics`` to start.
    public var metrics: ReflectorMetrics?

    /// The largest reply payload: the IPv4 limit, so a reply fits whichever family the peer uses.
    static let replyLimit = AddressFamily.inet.maximumPayloadSize

    /// - Parameters:
    ///   - prefix: Bytes put before each reply.
    ///   - batchSize: Datagrams (or trains) received per system call.
    ///   - admission: Per-source rate limit and amplification guard; nil answers everyone (the fastest path:
    ///     without it and without a prefix the received batch goes straight back).
    public init(prefix: [UInt8] = [], batchSize: Int = 64, admission: PeerAdmission.Policy? = nil) {
        self.prefix = prefix
        incoming = DatagramBatch(capacity: batchSize)
        let copies = !prefix.isEmpty || admission != nil
        replies = DatagramBatch(capacity: copies ? batchSize : 1)
        self.admission = admission.map(PeerAdmission.init(policy:))
    }

    /// Sources whose state the admission policy keeps now.
    public var admittedSources: Int { admission?.count ?? 0 }

    /// Turns packet info on when `socket` is bound to a wildcard address, so that replies go out from the
    /// address each request was sent to: a client that checks the source of a reply (any connected socket,
    /// `dig`) would drop one from another address of the host. On a specific address the kernel answers from
    /// that address anyway, and this changes nothing: the hot path stays without ancillary data.
    ///
    /// ``run(_:until:reportInterval:report:observe:sendFailed:)`` calls it; call it before
    /// ``reflectNextBatch(_:observe:sendFailed:)``.
    ///
    /// - Returns: Whether packet info is now on.
    @discardableResult
    public static func answerFromTheAddressAsked(on socket: borrowing UDPSocket) throws(UDPError) -> Bool {
        guard try socket.localAddress.ip.isUnspecified else { return false }
        try socket.setReceivePacketInfo(true)
        return true
    }

    /// Receives one batch from `socket` — waiting for it as long as the socket's receive timeout lets it — and
    /// answers it: a step at a time, for a caller with a loop of its own.
    ///
    /// - Parameters:
    ///   - socket: The server's socket.
    ///   - observe: Called with the received batch and its slot count before the replies go out (for logging).
    ///   - sendFailed: Called for each datagram that could not be answered, with the reason.
    /// - Returns: The datagrams received, or nil when the receive only timed out (the socket's receive timeout
    ///   lets a caller look at a stop flag), or reported an ICMP error left by an earlier reply (on an
    ///   unconnected socket `ECONNREFUSED` concerns no datagram now queued).
    public mutating func reflectNextBatch(
        _ socket: borrowing UDPSocket,
        observe: ((borrowing DatagramBatch, Int) -> Void)? = nil,
        sendFailed: ((UDPError) -> Void)? = nil
    ) throws(UDPError) -> Int? {
        let before = counters.received
        let slots = try BatchDriver(stop: nil).receiveNextBatch(&self, on: socket, observe: observe) { event in
            if case .sendFailed(let error) = event { sendFailed?(error) }
        }
        return slots.map { _ in counters.received - before }
    }

    /// Asks for a ``Event/report(_:)`` of the counters every `interval` from `start`; nil asks for none.
    public mutating func report(every interval: Duration?, from start: MonotonicInstant) {
        reportInterval = interval
        nextReport = interval.map { start + $0 }
    }

    /// Answers slots `0..<count` of the received batch: sent straight back when nothing changes a reply (no
    /// prefix, no admission policy, no sealing), copied into replies otherwise.
    public mutating func handleReceived(_ count: Int, socket: Int, at now: MonotonicInstant, send: BatchSend) {
        let before = counters
        defer { metrics?.record(from: before, to: counters) }
        var datagrams = 0
        for slot in 0..<count {
            datagrams += incoming.segmentCount(at: slot)
            if incoming.isTruncated(at: slot) { counters.truncated += 1 }
        }
        counters.received += datagrams
        // The drop counter is cumulative, so the batch's last datagram carries the newest value; one look a
        // batch, not a datagram.
        if let drops = incoming.info(at: count - 1).kernelDropCount { counters.kernelDrops = Int(drops) }
        if sealing != nil {
            // Moved out while it answers, so that it may use the reflector's batches and counters.
            var sealed = sealing.take()!
            sealed.answer(count, of: &self, at: now, send: send)
            sealing = sealed
        } else if prefix.isEmpty && admission == nil {
            Self.sendAll(&incoming, send, &counters, &events)
        } else {
            replies.removeAll()
            for slot in 0..<count {
                if admission != nil && !admit(slot, now: now) { continue }
                Self.addPrefixedReplies(prefix, to: slot, of: incoming, into: &replies, send, &counters, &events)
            }
            Self.sendAll(&replies, send, &counters, &events)
        }
    }

    /// Asks the admission policy about slot `index` (a datagram or a whole train), counting a refusal.
    private mutating func admit(_ index: Int, now: MonotonicInstant) -> Bool {
        let datagrams = incoming.segmentCount(at: index)
        let requestBytes = incoming.payload(at: index).count
        let verdict = admission!.admit(
            incoming.peer(at: index),
            datagrams: datagrams,
            requestBytes: requestBytes,
            replyBytes: requestBytes + prefix.count * datagrams,
            now: now
        )
        switch verdict {
        case .admitted: return true
        case .rateLimited: counters.rateLimited += datagrams
        case .amplificationLimited: counters.amplificationLimited += datagrams
        }
        return false
    }

    /// The error for a reply of `size` bytes that no datagram can carry, as a send would have reported it.
    static func replyTooLarge(_ size: Int, to peer: SocketAddress) -> UDPError {
        var error = UDPError(.messageTooLarge, .send, address: peer)
        error.attemptedSize = size
        error.maximumSize = replyLimit
        return error
    }

    /// Queues the prefixed replies to slot `index` (a datagram or a train), sending `replies` first when full.
    private static func addPrefixedReplies(
        _ prefix: [UInt8],
        to index: Int,
        of incoming: borrowing DatagramBatch,
        into replies: inout DatagramBatch,
        _ send: BatchSend,
        _ counters: inout Counters,
        _ events: inout MachineQueue<Event>
    ) {
        let segments = incoming.segmentCount(at: index)
        let longest = (incoming.segmentSize(at: index) ?? incoming.payload(at: index).count) + prefix.count
        guard longest <= replyLimit else {
            counters.failed += segments
            events.append(.sendFailed(replyTooLarge(longest, to: incoming.peer(at: index))))
            return
        }
        // A train's replies stay a train; one GSO send carries at most 64 datagrams and 65507 bytes. An empty
        // datagram with no prefix has an empty reply: one a send (its size must not divide).
        let perSend = min(DatagramBatch.maximumSegments, replyLimit / max(longest, 1))
        var next = 0
        while next < segments {
            let take = min(perSend, segments - next)
            if replies.count == replies.capacity {
                sendAll(&replies, send, &counters, &events)
                replies.removeAll()
            }
            let first = next
            replies.appendReply(to: index, of: incoming, segmentSize: take > 1 ? longest : nil) { buffer in
                var offset = 0
                for segment in first..<first + take {
                    let bytes = incoming.segment(segment, at: index)
                    UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]).copyBytes(from: prefix)
                    UnsafeMutableRawBufferPointer(rebasing: buffer[(offset + prefix.count)...]).copyMemory(from: bytes)
                    offset += prefix.count + bytes.count
                }
                return offset
            }
            next += take
        }
    }

    /// Sends every slot of `batch`; one that fails (a peer gone, a full queue) is counted and skipped.
    static func sendAll(
        _ batch: inout DatagramBatch,
        _ send: BatchSend,
        _ counters: inout Counters,
        _ events: inout MachineQueue<Event>
    ) {
        var next = 0
        while next < batch.count {
            do throws(UDPError) {
                let sent = try send(&batch, next, 0)
                for slot in next..<next + sent { counters.replied += batch.segmentCount(at: slot) }
                next += sent
            } catch {
                counters.failed += batch.segmentCount(at: next)
                events.append(.sendFailed(error))
                next += 1
            }
        }
    }
}

/// The sealed path of a ``Reflector``: it answers a whole received batch. Only a build with the package trait
/// `Sealing` has one (`Reflector.Sealing`, in Reflector+Sealing.swift); without it `Reflector.sealing` is
/// always nil, and the batch loop pays one nil check a batch for it.
protocol ReflectorSealing: Sendable {
    /// Opens each datagram of slots `0..<slots` of `reflector`'s received batch, and answers those that
    /// authenticate with a sealed reply, counting the rest.
    mutating func answer(_ slots: Int, of reflector: inout Reflector, at now: MonotonicInstant, send: BatchSend)
}
