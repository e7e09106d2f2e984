import UDP
import UDPPatterns

/// The engine of `udp relay`, a user-space netem: one listening socket for the clients, one upstream socket
/// per client (connected to the server, so its replies come back on it, as through a NAT), a timer heap for
/// delayed datagrams, all driven by `poll(2)` on one thread, which sleeps while nothing is due.
///
/// ```swift
/// var relay = try RelayEngine(listen: .any(.inet), target: server, up: Impairment(loss: 0.2), down: Impairment(), seed: 7)
/// try relay.run(until: stop)
/// print(relay.counters.up.dropped)
/// ```
public struct RelayEngine: ~Copyable {
    /// Counters of one direction.
    ///
    /// They add up: every datagram received is lost (`dropped`) or goes on as one copy, or two when
    /// `duplicated`, and every copy is `forwarded`, refused `over rate`, met a `send error`, found `no upstream
    /// socket`, or is still `in flight`. So received − dropped + duplicated = forwarded + over rate + send
    /// errors + no upstream socket + in flight.
    public struct DirectionCounters: Sendable, Equatable {
        public var received = 0
        public var forwarded = 0
        public var dropped = 0
        public var duplicated = 0
        public var reordered = 0
        public var delayed = 0
        public var rateDropped = 0
        public var failed = 0
        /// Copies with no socket to leave by: the client's could not be made (descriptors ran out), or its
        /// mapping expired or was evicted while the copy waited.
        public var unmapped = 0
        /// Copies waiting for their time (delay, rate slot, or held back to reorder).
        public var inFlight = 0
        /// ICMP errors (port unreachable, most often) reported on the upstream sockets: not datagrams, so
        /// outside the sum above.
        public var unreachable = 0

        public init() {}
    }

    /// Both directions' counters and the client mappings'.
    public struct Counters: Sendable, Equatable {
        /// Client to server.
        public var up = DirectionCounters()
        /// Server to client.
        public var down = DirectionCounters()
        public var activeClients = 0
        public var expiredClients = 0
        public var evictedClients = 0
    }

    /// One client's path to the server. A class, because the non-copyable socket lives in a table.
    private final class Mapping {
        let client: SocketAddress
        let upstream: UDPSocket
        var lastActive: UInt64
        init(client: SocketAddress, upstream: consuming UDPSocket, now: UInt64) {
            self.client = client
            self.upstream = upstream
            lastActive = now
        }
    }

    private enum Direction: Hashable { case up, down }

    /// A datagram on its way: when it is due, where it goes, and whether it is to be held back.
    private struct Departure {
        var direction: Direction
        var mapping: Int
        var payload: [UInt8]
        var reorder: Bool
    }

    /// The faults of each direction.
    public let up: Impairment
    public let down: Impairment
    private let listener: UDPSocket
    private let target: SocketAddress
    private let idleTimeout: UInt64
    private let maxClients: Int
    /// One generator per direction, both drawn from the seed: a direction's fate does not depend on how its
    /// datagrams interleave with the other direction's.
    private var random: [Direction: SeededGenerator]
    /// `--rate` per direction; absent for no limit.
    private var shapers: [Direction: RateShaper] = [:]
    private var mappings: [Int: Mapping] = [:]
    private var clients: [SocketAddress: Int] = [:]
    private var mappingOfDescriptor: [CInt: Int] = [:]
    private var nextMapping = 0
    private var timers = DeadlineHeap<UInt64, Departure>()
    /// A datagram held back per direction, and when it goes anyway.
    private var held: [Direction: (departure: Departure, until: UInt64)] = [:]
    private var directions: [Direction: DirectionCounters] = [.up: DirectionCounters(), .down: DirectionCounters()]
    private var expired = 0
    private var evicted = 0
    private var buffer = [UInt8](repeating: 0, count: 65_535)
    /// The listener and every mapping's socket, as poll(2) wants them.
    private var watched = PollSet()

    /// Binds the listening socket.
    ///
    /// - Parameters:
    ///   - listen: Where clients send.
    ///   - target: The server.
    ///   - up: Faults from client to server; `down`, from server to client.
    ///   - seed: Fixes every random choice: the same seed, the same fates. Each direction draws from a
    ///     generator of its own, derived from the seed.
    ///   - idleTimeout: Nanoseconds after which a client's mapping with no traffic is dropped.
    ///   - maxClients: The most client mappings kept; the least recently active goes first.
    public init(
        listen: SocketAddress,
        target: SocketAddress,
        up: Impairment = Impairment(),
        down: Impairment = Impairment(),
        seed: UInt64 = 0,
        idleTimeout: UInt64 = 60_000_000_000,
        maxClients: Int = 1024
    ) throws(UDPError) {
        listener = try UDPSocket(bindingTo: listen, nonBlocking: true)
        watched.add(listener.descriptor)
        self.target = target
        self.up = up
        self.down = down
        var seeds = SeededGenerator(seed: seed)
        random = [.up: SeededGenerator(seed: seeds.next()), .down: SeededGenerator(seed: seeds.next())]
        shapers[.up] = RateShaper(rate: up.rate)
        shapers[.down] = RateShaper(rate: down.rate)
        self.idleTimeout = idleTimeout
        self.maxClients = maxClients
    }

    /// The port the relay listens on.
    public var port: UInt16 { get throws(UDPError) { try listener.localAddress.port } }

    /// The counters now.
    public var counters: Counters {
        Counters(
            up: directions[.up]!,
            down: directions[.down]!,
            activeClients: mappings.count,
            expiredClients: expired,
            evictedClients: evicted
        )
    }

    /// Relays until `stop` is requested. It sleeps until a datagram arrives, a delayed one is due, a client
    /// may expire (when the quietest mapping would pass the idle timeout), or the stop comes.
    ///
    /// - Parameters:
    ///   - reportInterval: How often, in nanoseconds, `report` gets the counters; nil never.
    public mutating func run(
        until stop: StopSignal,
        reportInterval: UInt64? = nil,
        report: (Counters) -> Void = { _ in }
    ) throws(UDPError) {
        // When the quietest mapping may expire: an idle relay wakes for that, not on a timer.
        var nextExpiry: UInt64?
        var nextReport = reportInterval.map { MonotonicClock.now() + $0 }
        while !stop.isRequested {
            var now = MonotonicClock.now()
            sendDue(now: now)
            if nextExpiry.map({ now >= $0 }) ?? !mappings.isEmpty {
                nextExpiry = expireIdle(now: now)
            }
            if let due = nextReport, let reportInterval, now >= due {
                report(counters)
                nextReport = due + reportInterval
            }
            var wake = nextExpiry
            func wakeBy(_ due: UInt64?) { if let due { wake = min(wake ?? due, due) } }
            wakeBy(timers.first?.deadline)
            wakeBy(held[.up]?.until)
            wakeBy(held[.down]?.until)
            wakeBy(nextReport)
            guard try watched.wait(until: wake, stop: stop) else { continue }
            now = MonotonicClock.now()
            try watched.forEachReadable { descriptor throws(UDPError) in try drain(descriptor, now: now) }
        }
    }

    // MARK: Receiving

    /// Receives what is queued on `descriptor` (at most 256 datagrams, so one busy peer cannot starve the
    /// timers) and hands each datagram to its direction's faults.
    private mutating func drain(_ descriptor: CInt, now: UInt64) throws(UDPError) {
        let isListener = descriptor == listener.descriptor
        let mappingID = isListener ? nil : mappingOfDescriptor[descriptor]
        for _ in 0..<256 {
            let result: Result<ReceiveInfo, UDPError>
            if isListener {
                result = buffer.withUnsafeMutableBytes { bytes in
                    Result { () throws(UDPError) in try listener.receive(into: bytes) }
                }
            } else if let mappingID, let mapping = mappings[mappingID] {
                result = buffer.withUnsafeMutableBytes { bytes in
                    Result { () throws(UDPError) in try mapping.upstream.receive(into: bytes) }
                }
            } else {
                return
            }
            let info: ReceiveInfo
            switch result {
            case .success(let received): info = received
            case .failure(let error) where error.code == .wouldBlock: return
            case .failure where !isListener:
                // An ICMP error (most often port unreachable: nobody listens) that the kernel reports on this
                // client's socket: nothing to forward, the client just sees silence, and the others go on.
                directions[.down]!.unreachable += 1
                continue
            case .failure(let error): throw error
            }
            let payload = Array(buffer[..<info.count])
            if isListener {
                guard let id = mapping(for: info.sender, now: now) else {
                    // No socket for this client (descriptors exhausted): it is dropped, the relay goes on.
                    directions[.up]!.received += 1
                    directions[.up]!.unmapped += 1
                    continue
                }
                accept(payload, direction: .up, mapping: id, now: now)
            } else if let mappingID {
                mappings[mappingID]?.lastActive = now
                accept(payload, direction: .down, mapping: mappingID, now: now)
            }
            // What is due goes now, before a later arrival in this batch can evict the mapping it leaves by.
            sendDue(now: now)
        }
    }

    /// The mapping of `client`, made on its first datagram (evicting the least recently active when full).
    /// - Returns: nil when its socket cannot be made: that is this client's datagram lost, not a reason to
    ///   stop relaying for everyone else.
    private mutating func mapping(for client: SocketAddress, now: UInt64) -> Int? {
        if let id = clients[client] {
            mappings[id]!.lastActive = now
            return id
        }
        if mappings.count >= maxClients { evictLeastRecentlyActive() }
        var made = makeMapping(for: client, now: now)
        // Out of descriptors below --max-clients (the cap leaves room for ours, not for what the relay
        // inherited or the runtime opened): the least recently active client gives up its socket.
        if case .failure(let error) = made,
            error.errno == .tooManyOpenFiles || error.errno == .tooManyOpenFilesInSystem,
            evictLeastRecentlyActive()
        {
            made = makeMapping(for: client, now: now)
        }
        guard case .success(let mapping) = made else { return nil }
        let id = nextMapping
        nextMapping += 1
        mappings[id] = mapping
        clients[client] = id
        mappingOfDescriptor[mapping.upstream.descriptor] = id
        watched.add(mapping.upstream.descriptor)
        return id
    }

    /// A socket connected to the server, for `client`.
    private func makeMapping(for client: SocketAddress, now: UInt64) -> Result<Mapping, UDPError> {
        Result { () throws(UDPError) -> Mapping in
            let upstream = try UDPSocket(family: target.family, nonBlocking: true)
            try upstream.connect(to: target)
            return Mapping(client: client, upstream: upstream, now: now)
        }
    }

    /// Drops the mapping with the oldest traffic; false when there is none.
    @discardableResult
    private mutating func evictLeastRecentlyActive() -> Bool {
        guard let oldest = mappings.leastRecentlySeen(1, lastSeen: \.lastActive).first else { return false }
        remove(oldest.key)
        evicted += 1
        return true
    }

    /// Drops the mappings idle for longer than the timeout.
    /// - Returns: When the next one may expire (if it stays idle), nil when there are none.
    private mutating func expireIdle(now: UInt64) -> UInt64? {
        var next: UInt64?
        for (id, mapping) in mappings {
            if now - mapping.lastActive > idleTimeout {
                remove(id)
                expired += 1
            } else {
                let expiry = mapping.lastActive + idleTimeout + 1
                next = min(next ?? expiry, expiry)
            }
        }
        return next
    }

    private mutating func remove(_ id: Int) {
        guard let mapping = mappings.removeValue(forKey: id) else { return }
        clients[mapping.client] = nil
        mappingOfDescriptor[mapping.upstream.descriptor] = nil
        watched.remove(mapping.upstream.descriptor)
    }

    // MARK: Faults and sending

    /// Decides the fate of a datagram as it arrives: lost, or when each copy leaves (after its delay, in
    /// the slot `--rate` gives it; a copy that would wait too long for a slot is dropped over rate).
    private mutating func accept(_ payload: [UInt8], direction: Direction, mapping: Int, now: UInt64) {
        directions[direction]!.received += 1
        let impairment = direction == .up ? up : down
        let fate = impairment.fate(now: now, using: &random[direction]!)
        let reorder = fate.isHeld
        if fate.copies == 0 { directions[direction]!.dropped += 1 }
        if fate.copies > 1 { directions[direction]!.duplicated += 1 }
        if impairment.delay > 0 || impairment.jitter > 0 { directions[direction]!.delayed += fate.copies }
        for ready in [fate.departures.0, fate.departures.1] {
            guard let ready else { continue }
            var time = ready
            if shapers[direction] != nil {
                guard let slot = shapers[direction]!.book(readyAt: ready) else {
                    directions[direction]!.rateDropped += 1
                    continue
                }
                time = slot
            }
            directions[direction]!.inFlight += 1
            timers.insert(
                Departure(direction: direction, mapping: mapping, payload: payload, reorder: reorder),
                at: time
            )
        }
    }

    /// Sends every datagram whose time has come (its rate slot included), holding back as asked.
    private mutating func sendDue(now: UInt64) {
        for direction in [Direction.up, .down] {
            if let entry = held[direction], entry.until <= now {
                held[direction] = nil
                transmit(entry.departure, now: now)
            }
        }
        while let departure = timers.popFirst(dueAt: now) {
            if departure.reorder && held[departure.direction] == nil {
                held[departure.direction] = (departure, now + Impairment.reorderHold)
                continue
            }
            transmit(departure, now: now)
            if let entry = held[departure.direction] {
                held[departure.direction] = nil
                directions[departure.direction]!.reordered += 1
                transmit(entry.departure, now: now)
            }
        }
    }

    /// Sends one datagram; every accepted copy ends here, counted once.
    private mutating func transmit(_ departure: Departure, now: UInt64) {
        directions[departure.direction]!.inFlight -= 1
        guard let mapping = mappings[departure.mapping] else {
            // Expired or evicted while the datagram waited: its socket (and its client's address) are gone.
            directions[departure.direction]!.unmapped += 1
            return
        }
        let result: Result<Int, UDPError>
        switch departure.direction {
        case .up:
            result = Result { () throws(UDPError) in try mapping.upstream.send(departure.payload) }
        case .down:
            result = Result { () throws(UDPError) in try listener.send(departure.payload, to: mapping.client) }
        }
        switch result {
        case .success: directions[departure.direction]!.forwarded += 1
        case .failure: directions[departure.direction]!.failed += 1
        }
    }
}
