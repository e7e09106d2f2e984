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
    /// `duplicated`, and every copy is `forwarded`, refused `over rate` or `queue full`, met a `send error`,
    /// found `no upstream socket`, or is still `in flight`. So received − dropped + duplicated = forwarded +
    /// over rate + queue full + send errors + no upstream socket + in flight.
    public struct DirectionCounters: Sendable, Equatable {
        /// Datagrams received in this direction (each datagram of a train counts).
        public var received = 0
        /// Copies sent on.
        public var forwarded = 0
        /// Datagrams lost on purpose (``Impairment/loss``).
        public var dropped = 0
        /// Datagrams sent twice (``Impairment/duplicate``): each adds one copy.
        public var duplicated = 0
        /// Held-back copies that went out after the datagram behind them (``Impairment/reorder``); one whose
        /// hold ran out with no successor is not counted.
        public var reordered = 0
        /// Copies given a delay (``Impairment/delay`` or ``Impairment/jitter`` set).
        public var delayed = 0
        /// Copies refused because they would wait too long for their slot (``Impairment/rate``,
        /// ``RateShaper/maximumWait``): `over rate`.
        public var rateDropped = 0
        /// Copies refused because the relay already held its most delayed copies (``maximumHeld``), as netem
        /// refuses past its `limit`: a fast sender and a long delay cannot grow the queue without bound.
        public var queueFull = 0
        /// Copies whose send failed (a full send queue, an unreachable destination): `send errors`.
        public var failed = 0
        /// Copies with no socket to leave by: the client's could not be made (descriptors ran out), or its
        /// mapping expired or was evicted while the copy waited.
        public var unmapped = 0
        /// Copies waiting for their time (delay, rate slot, or held back to reorder).
        public var inFlight = 0
        /// ICMP errors (port unreachable, most often) reported on the upstream sockets: not datagrams, so
        /// outside the sum above.
        public var unreachable = 0

        /// All counts zero.
        public init() {}
    }

    /// Both directions' counters and the client mappings'.
    public struct Counters: Sendable, Equatable {
        /// Client to server.
        public var up = DirectionCounters()
        /// Server to client.
        public var down = DirectionCounters()
        /// Clients with a mapping (an upstream socket) now.
        public var activeClients = 0
        /// Mappings dropped because their client was silent longer than the idle timeout.
        public var expiredClients = 0
        /// Mappings dropped to make room for a new client: the table was full (`maxClients`), or descriptors
        /// ran out.
        public var evictedClients = 0
    }

    /// One client's path to the server. A class, because the non-copyable socket lives in a table, and a
    /// batch on its way out keeps its mapping (and so its socket) alive even if the mapping is evicted.
    private final class Mapping {
        let id: Int
        let client: SocketAddress
        let upstream: UDPSocket
        var lastActive: UInt64
        init(id: Int, client: SocketAddress, upstream: consuming UDPSocket, now: UInt64) {
            self.id = id
            self.client = client
            self.upstream = upstream
            lastActive = now
        }
    }

    private enum Direction: Int {
        case up = 0
        case down = 1
    }

    /// A datagram on its way: when it is due, where it goes, and whether it is to be held back.
    private struct Departure {
        var direction: Direction
        var mapping: Int
        var payload: [UInt8]
        var reorder: Bool
    }

    /// The most delayed copies the relay holds at once, both directions together, and their most bytes: past
    /// either, a copy is refused and counted in ``DirectionCounters/queueFull``. 100,000 copies and 64 MiB by
    /// default (netem holds 1,000 packets by default; a relay that delays 100 ms at 500,000 datagrams a second
    /// needs 50,000).
    public let maximumHeld: (datagrams: Int, bytes: Int)
    /// The faults from client to server.
    public let up: Impairment
    /// The faults from server to client.
    public let down: Impairment
    private let listener: UDPSocket
    private let target: SocketAddress
    private let idleTimeout: UInt64
    private let maxClients: Int
    /// Per direction, indexed by `Direction.rawValue`: whether it changes nothing (then datagrams go
    /// straight from the batch received to the batch sent), its generator (both drawn from the seed, so a
    /// direction's fate does not depend on how its datagrams interleave with the other's), its `--rate`,
    /// the datagram it holds back and until when, and its counters.
    private let transparent: [Bool]
    private var random: [SeededGenerator]
    private var shapers: [RateShaper?]
    private var held: [(departure: Departure, until: UInt64)?] = [nil, nil]
    private var directions = [DirectionCounters(), DirectionCounters()]
    private var mappings: [Int: Mapping] = [:]
    private var clients: [SocketAddress: Int] = [:]
    private var mappingOfDescriptor: [CInt: Mapping] = [:]
    private var nextMapping = 0
    private var timers = DeadlineHeap<UInt64, Departure>()
    private var expired = 0
    private var evicted = 0
    /// The listener and every mapping's socket, as poll(2) wants them.
    private var watched = PollSet()
    /// The sockets that had datagrams on the last look (allocated once, reused).
    private var active: [CInt] = []
    /// Datagrams as received (recvmmsg), and on their way out of a transparent direction (sendmmsg): to
    /// the server by one client's socket, and to the clients by the listener. Allocated once.
    private var incoming = DatagramBatch(capacity: 64)
    private var toServer = DatagramBatch(capacity: 64)
    private var toServerMapping: Mapping?
    private var toClients = DatagramBatch(capacity: 64)
    /// The datagrams gathered into the next train of each transparent direction.
    private var runToServer = TrainRun()
    private var runToClients = TrainRun()
    /// Payload buffers of delayed datagrams, reused once sent, so the fault path allocates only while the
    /// number in flight grows.
    private var spareBuffers: [[UInt8]] = []
    /// Copies on the timers or held back to reorder, and their payload bytes, against ``maximumHeld``.
    private var heldDatagrams = 0
    private var heldBytes = 0

    /// Binds the listening socket.
    ///
    /// - Parameters:
    ///   - listen: Where clients send.
    ///   - target: The server.
    ///   - up: Faults from client to server.
    ///   - down: Faults from server to client.
    ///   - seed: Fixes every random choice: the same seed, the same fates. Each direction draws from a
    ///     generator of its own, derived from the seed.
    ///   - idleTimeout: Nanoseconds after which a client's mapping with no traffic is dropped.
    ///   - maxClients: The most client mappings kept; the least recently active goes first. Each holds one
    ///     socket (a descriptor) and a few hundred bytes, whatever its client sends.
    ///   - maximumHeld: The most delayed copies held at once and their most payload bytes
    ///     (``maximumHeld``).
    public init(
        listen: SocketAddress,
        target: SocketAddress,
        up: Impairment = Impairment(),
        down: Impairment = Impairment(),
        seed: UInt64 = 0,
        idleTimeout: UInt64 = 60_000_000_000,
        maxClients: Int = 1024,
        maximumHeld: (datagrams: Int, bytes: Int) = (100_000, 64 << 20)
    ) throws(UDPError) {
        listener = try UDPSocket(bindingTo: listen, nonBlocking: true)
        watched.add(listener.descriptor)
        self.target = target
        self.up = up
        self.down = down
        transparent = [up.isTransparent, down.isTransparent]
        var seeds = SeededGenerator(seed: seed)
        random = [SeededGenerator(seed: seeds.next()), SeededGenerator(seed: seeds.next())]
        shapers = [RateShaper(rate: up.rate), RateShaper(rate: down.rate)]
        self.idleTimeout = idleTimeout
        self.maxClients = maxClients
        self.maximumHeld = maximumHeld
    }

    /// The port the relay listens on.
    public var port: UInt16 { get throws(UDPError) { try listener.localAddress.port } }

    /// The counters now.
    public var counters: Counters {
        Counters(
            up: directions[Direction.up.rawValue],
            down: directions[Direction.down.rawValue],
            activeClients: mappings.count,
            expiredClients: expired,
            evictedClients: evicted
        )
    }

    /// Relays until `stop` is requested. It sleeps until a datagram arrives, a delayed one is due, a client
    /// may expire (when the quietest mapping would pass the idle timeout), or the stop comes.
    ///
    /// - Parameters:
    ///   - stop: Ends the run when requested.
    ///   - reportInterval: How often, in nanoseconds, `report` gets the counters; nil never.
    ///   - report: Called with the counters about every `reportInterval`.
    public mutating func run(
        until stop: StopSignal,
        reportInterval: UInt64? = nil,
        report: (Counters) -> Void = { _ in }
    ) throws(UDPError) {
        // When the quietest mapping may expire: an idle relay wakes for that, not on a timer.
        var nextExpiry: UInt64?
        var reports = ReportClock(interval: reportInterval)
        while !stop.isRequested {
            var now = MonotonicClock.now()
            sendDue(now: now)
            if nextExpiry.map({ now >= $0 }) ?? !mappings.isEmpty {
                nextExpiry = expireIdle(now: now)
            }
            if reports.isDue(at: now) { report(counters) }
            var wake = nextExpiry
            func wakeBy(_ due: UInt64?) { if let due { wake = min(wake ?? due, due) } }
            wakeBy(timers.first?.deadline)
            wakeBy(held[0]?.until)
            wakeBy(held[1]?.until)
            wakeBy(reports.deadline)
            guard try watched.wait(until: wake, stop: stop) else { continue }
            active.removeAll(keepingCapacity: true)
            watched.forEachReadable { active.append($0) }
            // The sockets that yielded are asked again before the next sleep: under load more has arrived
            // while the last batch went out, and a receive that finds it costs less than a poll(2) that says
            // so. Bounded, so the timers and the quiet sockets get their turn.
            for _ in 0..<16 where !active.isEmpty && !stop.isRequested {
                now = MonotonicClock.now()
                var yielding = 0
                for index in active.indices where try drain(active[index], now: now) {
                    active[yielding] = active[index]
                    yielding += 1
                }
                active.removeLast(active.count - yielding)
            }
        }
    }

    // MARK: Receiving

    /// Receives what is queued on `descriptor`, a batch at a time (at most four, so one busy peer cannot
    /// starve the timers and the other sockets), and hands each datagram to its direction.
    /// - Returns: Whether anything was queued.
    private mutating func drain(_ descriptor: CInt, now: UInt64) throws(UDPError) -> Bool {
        let isListener = descriptor == listener.descriptor
        let source = isListener ? nil : mappingOfDescriptor[descriptor]
        if !isListener && source == nil { return false }
        var yielded = false
        for _ in 0..<4 {
            let received: Result<Int, UDPError>
            if let source {
                received = Result { () throws(UDPError) in try source.upstream.receiveIfQueued(into: &incoming) }
            } else {
                received = Result { () throws(UDPError) in try listener.receiveIfQueued(into: &incoming) }
            }
            let slots: Int
            switch received {
            case .success(0):
                return yielded
            case .success(let count):
                slots = count
                yielded = true
            case .failure where source != nil:
                // An ICMP error (most often port unreachable: nobody listens) that the kernel reports on this
                // client's socket: nothing to forward, the client just sees silence, and the others go on.
                directions[Direction.down.rawValue].unreachable += 1
                continue
            case .failure(let error) where error.code == .connectionRefused:
                continue  // an ICMP error about something the listener sent: no datagram is queued
            case .failure(let error):
                throw error
            }
            for slot in 0..<slots {
                if let source {
                    source.lastActive = now
                    accept(slot, direction: .down, mapping: source, now: now)
                } else if let mapping = mapping(for: incoming.peer(at: slot), now: now) {
                    accept(slot, direction: .up, mapping: mapping, now: now)
                } else {
                    // No socket for this client (descriptors exhausted): it is dropped, the relay goes on.
                    directions[Direction.up.rawValue].received += 1
                    directions[Direction.up.rawValue].unmapped += 1
                }
            }
            flush()
            // What is due goes now, before a later arrival can evict the mapping it leaves by.
            sendDue(now: now)
            if slots < incoming.capacity { return true }  // the queue ran dry
        }
        return true
    }

    /// The mapping of `client`, made on its first datagram (evicting the least recently active when full).
    /// - Returns: nil when its socket cannot be made: that is this client's datagram lost, not a reason to
    ///   stop relaying for everyone else.
    private mutating func mapping(for client: SocketAddress, now: UInt64) -> Mapping? {
        if let id = clients[client], let mapping = mappings[id] {
            mapping.lastActive = now
            return mapping
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
        nextMapping += 1
        mappings[mapping.id] = mapping
        clients[client] = mapping.id
        mappingOfDescriptor[mapping.upstream.descriptor] = mapping
        watched.add(mapping.upstream.descriptor)
        return mapping
    }

    /// A socket connected to the server, for `client`.
    private func makeMapping(for client: SocketAddress, now: UInt64) -> Result<Mapping, UDPError> {
        Result { () throws(UDPError) -> Mapping in
            let upstream = try UDPSocket(family: target.family, nonBlocking: true)
            try upstream.connect(to: target)
            return Mapping(id: nextMapping, client: client, upstream: upstream, now: now)
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

    /// Takes datagram `slot` of the batch just received. A transparent direction forwards it as it is, in a
    /// batch; otherwise its fate is drawn: lost, or when each copy leaves (after its delay, in the slot
    /// `--rate` gives it; a copy that would wait too long for a slot is dropped over rate).
    private mutating func accept(_ slot: Int, direction: Direction, mapping: Mapping, now: UInt64) {
        let index = direction.rawValue
        directions[index].received += 1
        let payload = incoming.payload(at: slot)
        if transparent[index] {
            forward(slot, size: payload.count, direction: direction, mapping: mapping)
            return
        }
        let impairment = direction == .up ? up : down
        let fate = impairment.fate(now: now, using: &random[index])
        if fate.copies == 0 {
            directions[index].dropped += 1
            return
        }
        if fate.copies > 1 { directions[index].duplicated += 1 }
        if impairment.delay > 0 || impairment.jitter > 0 { directions[index].delayed += fate.copies }
        var buffer = spareBuffers.popLast() ?? []
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: payload)
        let departure = Departure(direction: direction, mapping: mapping.id, payload: buffer, reorder: fate.isHeld)
        schedule(departure, readyAt: fate.departures.0)
        schedule(departure, readyAt: fate.departures.1)
    }

    /// Puts one copy on the timers, in its `--rate` slot if there is a limit.
    private mutating func schedule(_ departure: Departure, readyAt ready: UInt64?) {
        guard let ready else { return }
        let index = departure.direction.rawValue
        guard heldDatagrams < maximumHeld.datagrams, heldBytes + departure.payload.count <= maximumHeld.bytes else {
            directions[index].queueFull += 1
            recycle(departure.payload)
            return
        }
        var time = ready
        if shapers[index] != nil {
            guard let slot = shapers[index]!.book(readyAt: ready) else {
                directions[index].rateDropped += 1
                recycle(departure.payload)
                return
            }
            time = slot
        }
        directions[index].inFlight += 1
        heldDatagrams += 1
        heldBytes += departure.payload.count
        timers.insert(departure, at: time)
    }

    /// Adds datagram `slot` of the batch received to its direction's run: consecutive datagrams of one size
    /// for one destination go out as one GSO train (`UDP_SEGMENT`), one trip through the kernel's stack
    /// instead of one per datagram; the receiver still gets them one by one, boundaries intact.
    private mutating func forward(_ slot: Int, size: Int, direction: Direction, mapping: Mapping) {
        switch direction {
        case .up:
            if !runToServer.take(slot, size: size, for: mapping) {
                emitRunToServer()
                runToServer.start(slot, size: size, for: mapping)
            }
        case .down:
            if !runToClients.take(slot, size: size, for: mapping) {
                emitRunToClients()
                runToClients.start(slot, size: size, for: mapping)
            }
        }
    }

    /// Moves the run to the server into the outgoing batch, sending the batch first when it is full or goes
    /// by another client's socket.
    private mutating func emitRunToServer() {
        guard let mapping = runToServer.mapping else { return }
        if toServerMapping !== mapping || toServer.count == toServer.capacity { flushToServer() }
        toServerMapping = mapping
        if !Self.append(runToServer, from: incoming, to: &toServer, address: nil) {
            directions[Direction.up.rawValue].failed += runToServer.count
        }
        runToServer.clear()
    }

    private mutating func emitRunToClients() {
        guard let mapping = runToClients.mapping else { return }
        if toClients.count == toClients.capacity { flushToClients() }
        if !Self.append(runToClients, from: incoming, to: &toClients, address: mapping.client) {
            directions[Direction.down.rawValue].failed += runToClients.count
        }
        runToClients.clear()
    }

    /// Copies the run's datagrams from `incoming` into one slot of `batch`: a train when there are several.
    /// - Returns: False when they did not fit (never, as runs stay under a slot's 64 KiB): a send failure.
    private static func append(
        _ run: TrainRun,
        from incoming: borrowing DatagramBatch,
        to batch: inout DatagramBatch,
        address: SocketAddress?
    ) -> Bool {
        if let address {
            return batch.append(to: address, segmentSize: run.segmentSize) { run.write(from: incoming, into: $0) }
        }
        // By the client's connected socket.
        return batch.append(segmentSize: run.segmentSize) { run.write(from: incoming, into: $0) }
    }

    private mutating func flush() {
        emitRunToServer()
        emitRunToClients()
        flushToServer()
        flushToClients()
    }

    private mutating func flushToServer() {
        guard let mapping = toServerMapping else { return }
        Self.sendAll(&toServer, by: mapping.upstream, counting: &directions[Direction.up.rawValue])
        toServer.removeAll()
        toServerMapping = nil
    }

    private mutating func flushToClients() {
        Self.sendAll(&toClients, by: listener, counting: &directions[Direction.down.rawValue])
        toClients.removeAll()
    }

    /// Sends every slot of `batch`, as many per call as the kernel takes; a slot that fails is counted and
    /// skipped.
    private static func sendAll(
        _ batch: inout DatagramBatch,
        by socket: borrowing UDPSocket,
        counting counters: inout DirectionCounters
    ) {
        var next = 0
        while next < batch.count {
            do throws(UDPError) {
                let sent = try socket.send(&batch, startingAt: next)
                for slot in next..<next + sent { counters.forwarded += batch.segmentCount(at: slot) }
                next += sent
            } catch {
                counters.failed += batch.segmentCount(at: next)
                next += 1
            }
        }
    }

    /// Sends every datagram whose time has come (its rate slot included), holding back as asked.
    private mutating func sendDue(now: UInt64) {
        for index in 0..<2 {
            if let entry = held[index], entry.until <= now {
                held[index] = nil
                transmit(entry.departure)
            }
        }
        while let departure = timers.popFirst(dueAt: now) {
            let index = departure.direction.rawValue
            if departure.reorder && held[index] == nil {
                held[index] = (departure, now + Impairment.reorderHold)
                continue
            }
            transmit(departure)
            if let entry = held[index] {
                held[index] = nil
                directions[index].reordered += 1
                transmit(entry.departure)
            }
        }
    }

    /// Sends one delayed datagram; every accepted copy ends here, counted once.
    private mutating func transmit(_ departure: Departure) {
        let index = departure.direction.rawValue
        directions[index].inFlight -= 1
        heldDatagrams -= 1
        heldBytes -= departure.payload.count
        defer { recycle(departure.payload) }
        guard let mapping = mappings[departure.mapping] else {
            // Expired or evicted while the datagram waited: its socket (and its client's address) are gone.
            directions[index].unmapped += 1
            return
        }
        // Through the raw-buffer calls: the generic `send(some Collection)` is not specialised across modules
        // and would allocate per datagram.
        let result = departure.payload.withUnsafeBytes { bytes in
            Result { () throws(UDPError) -> Int in
                switch departure.direction {
                case .up: try mapping.upstream.send(bytes)
                case .down: try listener.send(bytes, to: mapping.client)
                }
            }
        }
        switch result {
        case .success: directions[index].forwarded += 1
        case .failure: directions[index].failed += 1
        }
    }

    /// Keeps a sent datagram's buffer for the next delayed one (a bounded number of them).
    private mutating func recycle(_ buffer: [UInt8]) {
        if spareBuffers.count < 1024 { spareBuffers.append(buffer) }
    }

    /// Datagrams of the batch just received that go out together as one GSO train: same destination, same size
    /// (the last may be shorter, as GSO allows), at most 64 and under 64 KiB in all. Holds slot numbers only.
    private struct TrainRun {
        /// Where the train goes: a mapping's client (down) or, through its socket, the server (up).
        private(set) var mapping: Mapping?
        private var slots: [Int] = []
        private var size = 0
        /// A shorter datagram ended the train: GSO allows it only last.
        private var closed = false

        init() { slots.reserveCapacity(DatagramBatch.maximumSegments) }

        /// Datagrams gathered.
        var count: Int { slots.count }

        /// The segment size to send with: nil for a lone datagram.
        var segmentSize: Int? { slots.count > 1 ? size : nil }

        mutating func start(_ slot: Int, size: Int, for mapping: Mapping) {
            self.mapping = mapping
            self.size = size
            closed = false
            slots.removeAll(keepingCapacity: true)
            slots.append(slot)
        }

        /// Adds `slot` if it can join this train.
        mutating func take(_ slot: Int, size: Int, for mapping: Mapping) -> Bool {
            guard self.mapping === mapping, !closed, size <= self.size, size > 0,
                slots.count < min(DatagramBatch.maximumSegments, 65_000 / self.size)
            else { return false }
            if size < self.size { closed = true }
            slots.append(slot)
            return true
        }

        mutating func clear() {
            mapping = nil
            slots.removeAll(keepingCapacity: true)
        }

        /// Copies the gathered datagrams back to back into `buffer`; the bytes written.
        func write(from batch: borrowing DatagramBatch, into buffer: UnsafeMutableRawBufferPointer) -> Int {
            var offset = 0
            for slot in slots {
                let payload = batch.payload(at: slot)
                guard offset + payload.count <= buffer.count else { return -1 }
                UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]).copyMemory(from: payload)
                offset += payload.count
            }
            return offset
        }
    }
}
