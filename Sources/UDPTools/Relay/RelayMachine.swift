import UDP
import UDPPatterns

/// The relay of `udp relay` without its sockets: client mappings, the fault schedule (loss, duplicates,
/// delay and jitter, reordering, `--rate`), the timers of delayed copies and idle clients, and the trains of
/// a transparent direction. ``RelayEngine`` runs it on a ``BatchDriver`` with a ``SocketTable``; a test runs
/// it with fake socket numbers and a fake clock.
///
/// It knows its sockets by number: the listener's, and one per client that it asks for with `openUpstream`
/// (a socket connected to the server, so that the server's replies come back on it, as through a NAT) and
/// gives back with `closeUpstream` when the client goes idle or is evicted.
public struct RelayMachine: ~Copyable {
    /// Opens a socket connected to the server, and returns its number (or why it could not).
    public typealias OpenUpstream = () -> Result<Int, UDPError>
    /// Closes the socket of that number.
    public typealias CloseUpstream = (Int) -> Void

    /// What the relay tells its owner.
    public enum Event: Sendable {
        /// The counters, every report interval (``RelayMachine/report(every:from:)``).
        case report(RelayEngine.Counters)
    }

    /// One client's path to the server. A class, so that a train gathered for it keeps naming it while
    /// the mapping table changes.
    private final class Mapping {
        let id: Int
        let client: SocketAddress
        let socket: Int
        var lastActive: UInt64
        init(id: Int, client: SocketAddress, socket: Int, now: UInt64) {
            self.id = id
            self.client = client
            self.socket = socket
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
    /// either, a copy is refused and counted in `RelayEngine.DirectionCounters.queueFull`.
    public let maximumHeld: (datagrams: Int, bytes: Int)
    /// The faults from client to server.
    public let up: Impairment
    /// The faults from server to client.
    public let down: Impairment
    private let listener: Int
    private let openUpstream: OpenUpstream
    private let closeUpstream: CloseUpstream
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
    private var directions = [RelayEngine.DirectionCounters(), RelayEngine.DirectionCounters()]
    private var mappings: [Int: Mapping] = [:]
    private var clients: [SocketAddress: Int] = [:]
    private var mappingOfSocket: [Int: Mapping] = [:]
    private var nextMapping = 0
    private var timers = DeadlineHeap<UInt64, Departure>()
    private var expired = 0
    private var evicted = 0
    /// When the quietest mapping may expire: an idle relay wakes for that, not on a timer.
    private var nextExpiry: UInt64?
    private var reportInterval: UInt64?
    private var nextReport: UInt64?
    private var events = MachineQueue<Event>(limit: 16)
    /// Datagrams as received (recvmmsg), and on their way out (sendmmsg): to the server by one client's
    /// socket, and to the clients by the listener. Allocated once.
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

    /// - Parameters:
    ///   - listener: The number of the socket clients send to.
    ///   - up: Faults from client to server.
    ///   - down: Faults from server to client.
    ///   - seed: Fixes every random choice: the same seed, the same fates. Each direction draws from a
    ///     generator of its own, derived from the seed.
    ///   - idleTimeout: How long a client's mapping with no traffic lasts before it is dropped.
    ///   - maxClients: The most client mappings kept; the least recently active goes first.
    ///   - maximumHeld: The most delayed copies held at once and their most payload bytes.
    ///   - openUpstream: Opens a client's socket to the server.
    ///   - closeUpstream: Closes a client's socket.
    public init(
        listener: Int,
        up: Impairment = Impairment(),
        down: Impairment = Impairment(),
        seed: UInt64 = 0,
        idleTimeout: Duration = .seconds(60),
        maxClients: Int = 1024,
        maximumHeld: (datagrams: Int, bytes: Int) = (100_000, 64 << 20),
        openUpstream: @escaping OpenUpstream,
        closeUpstream: @escaping CloseUpstream
    ) {
        self.listener = listener
        self.up = up
        self.down = down
        transparent = [up.isTransparent, down.isTransparent]
        var seeds = SeededGenerator(seed: seed)
        random = [SeededGenerator(seed: seeds.next()), SeededGenerator(seed: seeds.next())]
        shapers = [RateShaper(rate: up.rate), RateShaper(rate: down.rate)]
        self.idleTimeout = MonotonicClock.nanoseconds(idleTimeout)
        self.maxClients = maxClients
        self.maximumHeld = maximumHeld
        self.openUpstream = openUpstream
        self.closeUpstream = closeUpstream
    }

    /// The counters now.
    public var counters: RelayEngine.Counters {
        RelayEngine.Counters(
            up: directions[Direction.up.rawValue],
            down: directions[Direction.down.rawValue],
            activeClients: mappings.count,
            expiredClients: expired,
            evictedClients: evicted
        )
    }

    /// Asks for a ``Event/report(_:)`` of the counters every `interval` from `start`; nil asks for none.
    public mutating func report(every interval: Duration?, from start: MonotonicInstant) {
        reportInterval = interval.map(MonotonicClock.nanoseconds)
        nextReport = reportInterval.map { start.nanoseconds + $0 }
    }

    // MARK: Receiving

    /// Hands each datagram of the batch to its direction: from the listener, up (making the client's mapping
    /// on its first datagram); from a client's socket, down. Then sends the trains and what is due.
    public mutating func handleReceived(_ count: Int, socket: Int, at instant: MonotonicInstant, send: BatchSend) {
        let now = instant.nanoseconds
        if socket == listener {
            for slot in 0..<count {
                if let mapping = mapping(for: incoming.peer(at: slot), now: now, send: send) {
                    accept(slot, direction: .up, mapping: mapping, now: now, send: send)
                } else {
                    // No socket for this client (descriptors exhausted): it is dropped, the relay goes on.
                    directions[Direction.up.rawValue].received += 1
                    directions[Direction.up.rawValue].unmapped += 1
                }
            }
        } else if let source = mappingOfSocket[socket] {
            for slot in 0..<count {
                source.lastActive = now
                accept(slot, direction: .down, mapping: source, now: now, send: send)
            }
        }
        flush(send)
        // What is due goes now, before a later arrival can evict the mapping it leaves by.
        sendDue(now: now, send: send)
    }

    /// Sends what is due, drops the idle mappings, and gives the counters when a report is due.
    public mutating func handleTimeout(at instant: MonotonicInstant, send: BatchSend) {
        let now = instant.nanoseconds
        sendDue(now: now, send: send)
        if let expiry = nextExpiry, now >= expiry { nextExpiry = expireIdle(now: now, send: send) }
        if let due = nextReport, let interval = reportInterval, now >= due {
            // Reports a late wake missed are not made up: the next is an interval from now at the latest.
            nextReport = due + interval > now ? due + interval : now + interval
            events.append(.report(counters))
        }
    }

    /// The earliest of: a delayed copy's time, a held-back copy's, the quietest mapping's expiry, a report.
    public var nextDeadline: MonotonicInstant? {
        var wake = nextExpiry
        func wakeBy(_ due: UInt64?) { if let due { wake = min(wake ?? due, due) } }
        wakeBy(timers.first?.deadline)
        wakeBy(held[0]?.until)
        wakeBy(held[1]?.until)
        wakeBy(nextReport)
        return wake.map(MonotonicInstant.init(nanoseconds:))
    }

    /// Counts an ICMP error on a client's socket (most often port unreachable: nobody listens): nothing to
    /// forward, the client just sees silence, and the others go on. On the listener it concerns something
    /// already sent to a client, and is passed over.
    public mutating func handleDeliveryError(_ error: DeliveryError?, socket: Int, at now: MonotonicInstant) {
        if socket != listener { directions[Direction.down.rawValue].unreachable += 1 }
    }

    /// The next report.
    public mutating func pollEvent() -> Event? { events.poll() }

    /// The batch datagrams are received into, allocated once.
    public mutating func withReceiveBatch<Result: ~Copyable, Failure: Error>(
        _ body: (inout DatagramBatch) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(&incoming)
    }

    // MARK: Mappings

    /// The mapping of `client`, made on its first datagram (evicting the least recently active when full).
    /// - Returns: nil when its socket cannot be made: that is this client's datagram lost, not a reason to
    ///   stop relaying for everyone else.
    private mutating func mapping(for client: SocketAddress, now: UInt64, send: BatchSend) -> Mapping? {
        if let id = clients[client], let mapping = mappings[id] {
            mapping.lastActive = now
            return mapping
        }
        if mappings.count >= maxClients { evictLeastRecentlyActive(send: send) }
        var opened = openUpstream()
        // Out of descriptors below --max-clients (the cap leaves room for ours, not for what the relay
        // inherited or the runtime opened): the least recently active client gives up its socket.
        if case .failure(let error) = opened,
            error.errno == .tooManyOpenFiles || error.errno == .tooManyOpenFilesInSystem,
            evictLeastRecentlyActive(send: send)
        {
            opened = openUpstream()
        }
        guard case .success(let socket) = opened else { return nil }
        let mapping = Mapping(id: nextMapping, client: client, socket: socket, now: now)
        nextMapping += 1
        mappings[mapping.id] = mapping
        clients[client] = mapping.id
        mappingOfSocket[socket] = mapping
        if nextExpiry == nil { nextExpiry = now + idleTimeout + 1 }
        return mapping
    }

    /// Drops the mapping with the oldest traffic; false when there is none.
    @discardableResult
    private mutating func evictLeastRecentlyActive(send: BatchSend) -> Bool {
        guard let oldest = mappings.leastRecentlySeen(1, lastSeen: \.lastActive).first else { return false }
        remove(oldest.key, send: send)
        evicted += 1
        return true
    }

    /// Drops the mappings idle for longer than the timeout.
    /// - Returns: When the next one may expire (if it stays idle), nil when there are none.
    private mutating func expireIdle(now: UInt64, send: BatchSend) -> UInt64? {
        var next: UInt64?
        for (id, mapping) in mappings {
            if now - mapping.lastActive > idleTimeout {
                remove(id, send: send)
                expired += 1
            } else {
                let expiry = mapping.lastActive + idleTimeout + 1
                next = min(next ?? expiry, expiry)
            }
        }
        return next
    }

    private mutating func remove(_ id: Int, send: BatchSend) {
        guard let mapping = mappings.removeValue(forKey: id) else { return }
        // A train gathered for its socket goes before the socket does.
        if runToServer.mapping === mapping || toServerMapping === mapping {
            emitRunToServer(send)
            flushToServer(send)
        }
        clients[mapping.client] = nil
        mappingOfSocket[mapping.socket] = nil
        closeUpstream(mapping.socket)
    }

    // MARK: Faults and sending

    /// Takes datagram `slot` of the batch just received. A transparent direction forwards it as it is, in a
    /// batch; otherwise its fate is drawn: lost, or when each copy leaves (after its delay, in the slot
    /// `--rate` gives it; a copy that would wait too long for a slot is dropped over rate).
    private mutating func accept(_ slot: Int, direction: Direction, mapping: Mapping, now: UInt64, send: BatchSend) {
        let index = direction.rawValue
        directions[index].received += 1
        let payload = incoming.payload(at: slot)
        if transparent[index] {
            forward(slot, size: payload.count, direction: direction, mapping: mapping, send: send)
            return
        }
        let impairment = direction == .up ? up : down
        let fate = impairment.fate(now: now, using: &random[index])
        if fate.copies == 0 {
            directions[index].dropped += 1
            return
        }
        if fate.copies > 1 { directions[index].duplicated += 1 }
        if impairment.delay > .zero || impairment.jitter > .zero { directions[index].delayed += fate.copies }
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
    private mutating func forward(_ slot: Int, size: Int, direction: Direction, mapping: Mapping, send: BatchSend) {
        switch direction {
        case .up:
            if !runToServer.take(slot, size: size, for: mapping) {
                emitRunToServer(send)
                runToServer.start(slot, size: size, for: mapping)
            }
        case .down:
            if !runToClients.take(slot, size: size, for: mapping) {
                emitRunToClients(send)
                runToClients.start(slot, size: size, for: mapping)
            }
        }
    }

    /// Moves the run to the server into the outgoing batch, sending the batch first when it is full or goes
    /// by another client's socket.
    private mutating func emitRunToServer(_ send: BatchSend) {
        guard let mapping = runToServer.mapping else { return }
        makeRoomToServer(for: mapping, send)
        if !Self.append(runToServer, from: incoming, to: &toServer, address: nil) {
            directions[Direction.up.rawValue].failed += runToServer.count
        }
        runToServer.clear()
    }

    private mutating func emitRunToClients(_ send: BatchSend) {
        guard let mapping = runToClients.mapping else { return }
        makeRoomToClients(send)
        if !Self.append(runToClients, from: incoming, to: &toClients, address: mapping.client) {
            directions[Direction.down.rawValue].failed += runToClients.count
        }
        runToClients.clear()
    }

    /// Sends the batch to the server first when it is full or goes by another client's socket.
    private mutating func makeRoomToServer(for mapping: Mapping, _ send: BatchSend) {
        if toServerMapping !== mapping || toServer.count == toServer.capacity { flushToServer(send) }
        toServerMapping = mapping
    }

    private mutating func makeRoomToClients(_ send: BatchSend) {
        if toClients.count == toClients.capacity { flushToClients(send) }
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

    private mutating func flush(_ send: BatchSend) {
        emitRunToServer(send)
        emitRunToClients(send)
        flushToServer(send)
        flushToClients(send)
    }

    private mutating func flushToServer(_ send: BatchSend) {
        guard let mapping = toServerMapping else { return }
        Self.sendAll(&toServer, by: mapping.socket, send, counting: &directions[Direction.up.rawValue])
        toServer.removeAll()
        toServerMapping = nil
    }

    private mutating func flushToClients(_ send: BatchSend) {
        Self.sendAll(&toClients, by: listener, send, counting: &directions[Direction.down.rawValue])
        toClients.removeAll()
    }

    /// Sends every slot of `batch`, as many per call as the kernel takes; a slot that fails is counted and
    /// skipped.
    private static func sendAll(
        _ batch: inout DatagramBatch,
        by socket: Int,
        _ send: BatchSend,
        counting counters: inout RelayEngine.DirectionCounters
    ) {
        var next = 0
        while next < batch.count {
            do throws(UDPError) {
                let sent = try send(&batch, next, socket)
                for slot in next..<next + sent { counters.forwarded += batch.segmentCount(at: slot) }
                next += sent
            } catch {
                counters.failed += batch.segmentCount(at: next)
                next += 1
            }
        }
    }

    /// Sends every datagram whose time has come (its rate slot included), holding back as asked.
    private mutating func sendDue(now: UInt64, send: BatchSend) {
        for index in 0..<2 {
            if let entry = held[index], entry.until <= now {
                held[index] = nil
                transmit(entry.departure, send)
            }
        }
        while let departure = timers.popFirst(dueAt: now) {
            let index = departure.direction.rawValue
            if departure.reorder && held[index] == nil {
                held[index] = (departure, now + MonotonicClock.nanoseconds(Impairment.reorderHold))
                continue
            }
            transmit(departure, send)
            if let entry = held[index] {
                held[index] = nil
                directions[index].reordered += 1
                transmit(entry.departure, send)
            }
        }
        flushToServer(send)
        flushToClients(send)
    }

    /// Puts one delayed datagram in its direction's outgoing batch; every accepted copy ends here, and is
    /// counted once when the batch goes.
    private mutating func transmit(_ departure: Departure, _ send: BatchSend) {
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
        let appended = departure.payload.withUnsafeBytes { bytes in
            switch departure.direction {
            case .up:
                makeRoomToServer(for: mapping, send)
                return toServer.append(bytes)
            case .down:
                makeRoomToClients(send)
                return toClients.append(bytes, to: mapping.client)
            }
        }
        if !appended { directions[index].failed += 1 }
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

extension RelayMachine: BatchMachine {}
