import UDP
import UDPTools

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The loop behind `udp relay`: one listening socket for the clients, one upstream socket per client
/// (connected to the server, so its replies come back on it), a timer queue for delayed datagrams, all
/// driven by `poll(2)` on one thread.
struct RelayEngine: ~Copyable {
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

    private enum Direction { case up, down }

    /// A datagram on its way: when it is due, where it goes, and whether it is to be held back.
    private struct Departure {
        var direction: Direction
        var mapping: Int
        var payload: [UInt8]
        var reorder: Bool
    }

    let up: Impairment
    let down: Impairment
    private let listener: UDPSocket
    private let target: SocketAddress
    private let idleTimeout: UInt64
    private let maxClients: Int
    /// One generator per direction, both drawn from the seed: a direction's fate does not depend on how its
    /// datagrams interleave with the other direction's.
    private var random: [Direction: SeededRandom]
    /// `--rate` per direction; absent for no limit.
    private var shapers: [Direction: RateShaper] = [:]
    private var mappings: [Int: Mapping] = [:]
    private var clients: [SocketAddress: Int] = [:]
    private var mappingOfDescriptor: [CInt: Int] = [:]
    private var nextMapping = 0
    private var timers = TimerQueue<Departure>()
    /// A datagram held back per direction, and when it goes anyway.
    private var held: [Direction: (departure: Departure, until: UInt64)] = [:]
    private var counters: [Direction: DirectionCounters] = [.up: DirectionCounters(), .down: DirectionCounters()]
    private var expired = 0
    private var evicted = 0
    private var buffer = [UInt8](repeating: 0, count: 65_535)

    init(
        listen: SocketAddress,
        target: SocketAddress,
        up: Impairment,
        down: Impairment,
        seed: UInt64,
        idleTimeout: UInt64,
        maxClients: Int
    ) throws(UDPError) {
        listener = try UDPSocket(bindingTo: listen, nonBlocking: true)
        self.target = target
        self.up = up
        self.down = down
        var seeds = SeededRandom(seed: seed)
        random = [.up: SeededRandom(seed: seeds.next()), .down: SeededRandom(seed: seeds.next())]
        shapers[.up] = RateShaper(rate: up.rate)
        shapers[.down] = RateShaper(rate: down.rate)
        self.idleTimeout = idleTimeout
        self.maxClients = maxClients
    }

    var port: UInt16 { get throws(UDPError) { try listener.localAddress.port } }

    mutating func run(printingStatsEverySecond stats: Bool) throws(UDPError) {
        var nextHousekeeping = MonotonicClock.now() + 1_000_000_000
        while !StopSignal.requested {
            var now = MonotonicClock.now()
            sendDue(now: now)
            if now >= nextHousekeeping {
                expireIdle(now: now)
                if stats { printStats() }
                nextHousekeeping = now + 1_000_000_000
            }
            var wake = min(nextHousekeeping, now + 200_000_000)  // and look at the stop flag
            if let due = timers.nextTime { wake = min(wake, due) }
            for entry in held.values { wake = min(wake, entry.until) }
            let ready = try waitForTraffic(timeout: wake > now ? wake - now : 0)
            now = MonotonicClock.now()
            for descriptor in ready { try drain(descriptor, now: now) }
        }
    }

    func printStats() {
        Console.error("client->server: \(counters[.up]!.summary)")
        Console.error("server->client: \(counters[.down]!.summary)")
        Console.error("clients: \(mappings.count) active, \(expired) expired, \(evicted) evicted")
    }

    // MARK: Receiving

    /// Polls the listener and every upstream socket; returns the readable descriptors.
    private func waitForTraffic(timeout: UInt64) throws(UDPError) -> [CInt] {
        var entries = [pollfd(fd: listener.descriptor, events: Int16(POLLIN), revents: 0)]
        for mapping in mappings.values {
            entries.append(pollfd(fd: mapping.upstream.descriptor, events: Int16(POLLIN), revents: 0))
        }
        let milliseconds = CInt(clamping: (timeout + 999_999) / 1_000_000)
        let count = poll(&entries, nfds_t(entries.count), milliseconds)
        if count < 0 {
            if errno == EINTR { return [] }
            throw UDPError(.wait, errno: .current)
        }
        return entries.filter { $0.revents != 0 }.map(\.fd)
    }

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
                counters[.down]!.unreachable += 1
                continue
            case .failure(let error): throw error
            }
            let payload = Array(buffer[..<info.count])
            if isListener {
                guard let id = mapping(for: info.sender, now: now) else {
                    // No socket for this client (descriptors exhausted): it is dropped, the relay goes on.
                    counters[.up]!.received += 1
                    counters[.up]!.unmapped += 1
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
        if case .failure(let error) = made, let code = error.errno?.rawValue, code == EMFILE || code == ENFILE,
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
        guard let oldest = mappings.min(by: { $0.value.lastActive < $1.value.lastActive }) else { return false }
        remove(oldest.key)
        evicted += 1
        return true
    }

    private mutating func expireIdle(now: UInt64) {
        for (id, mapping) in mappings where now - mapping.lastActive > idleTimeout {
            remove(id)
            expired += 1
        }
    }

    private mutating func remove(_ id: Int) {
        guard let mapping = mappings.removeValue(forKey: id) else { return }
        clients[mapping.client] = nil
        mappingOfDescriptor[mapping.upstream.descriptor] = nil
    }

    // MARK: Faults and sending

    /// Decides the fate of a datagram as it arrives: lost, or when each copy leaves (after its delay, in
    /// the slot `--rate` gives it; a copy that would wait too long for a slot is dropped over rate).
    private mutating func accept(_ payload: [UInt8], direction: Direction, mapping: Int, now: UInt64) {
        counters[direction]!.received += 1
        let impairment = direction == .up ? up : down
        let (times, reorder) = impairment.departures(now: now, using: &random[direction]!)
        if times.isEmpty { counters[direction]!.dropped += 1 }
        if times.count > 1 { counters[direction]!.duplicated += 1 }
        if impairment.delay > 0 || impairment.jitter > 0 { counters[direction]!.delayed += times.count }
        for ready in times {
            var time = ready
            if shapers[direction] != nil {
                guard let slot = shapers[direction]!.book(readyAt: ready) else {
                    counters[direction]!.rateDropped += 1
                    continue
                }
                time = slot
            }
            counters[direction]!.inFlight += 1
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
        while let departure = timers.popDue(now: now) {
            if departure.reorder && held[departure.direction] == nil {
                held[departure.direction] = (departure, now + Impairment.reorderHold)
                continue
            }
            transmit(departure, now: now)
            if let entry = held[departure.direction] {
                held[departure.direction] = nil
                counters[departure.direction]!.reordered += 1
                transmit(entry.departure, now: now)
            }
        }
    }

    /// Sends one datagram; every accepted copy ends here, counted once.
    private mutating func transmit(_ departure: Departure, now: UInt64) {
        counters[departure.direction]!.inFlight -= 1
        guard let mapping = mappings[departure.mapping] else {
            // Expired or evicted while the datagram waited: its socket (and its client's address) are gone.
            counters[departure.direction]!.unmapped += 1
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
        case .success: counters[departure.direction]!.forwarded += 1
        case .failure: counters[departure.direction]!.failed += 1
        }
    }
}
