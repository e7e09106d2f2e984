import UDP
import UDPPatterns

/// The engine of `udp relay`, a user-space netem: a ``RelayMachine`` (client mappings, faults, timers) on a
/// ``BatchDriver``, with one listening socket for the clients and one upstream socket per client (connected to
/// the server, so its replies come back on it, as through a NAT), all on one thread, which sleeps while
/// nothing is due.
///
/// ```swift
/// var relay = try RelayEngine(listen: .any(.inet), target: server, up: Impairment(loss: 0.2), down: Impairment(), seed: 7)
/// try relay.run(until: stop)
/// print(relay.counters.up.dropped)
/// ```
public struct RelayEngine: ~Copyable {
    /// The listener, and each client's socket as the machine asks for it.
    private let sockets: SocketTable
    private var machine: RelayMachine

    /// The most delayed copies the relay holds at once, both directions together, and their most bytes: past
    /// either, a copy is refused and counted in ``DirectionCounters/queueFull``. 100,000 copies and 64 MiB by
    /// default (netem holds 1,000 packets by default; a relay that delays 100 ms at 500,000 datagrams a second
    /// needs 50,000).
    public var maximumHeld: (datagrams: Int, bytes: Int) { machine.maximumHeld }
    /// The faults from client to server.
    public var up: Impairment { machine.up }
    /// The faults from server to client.
    public var down: Impairment { machine.down }

    /// Binds the listening socket.
    ///
    /// - Parameters:
    ///   - listen: Where clients send.
    ///   - target: The server.
    ///   - up: Faults from client to server.
    ///   - down: Faults from server to client.
    ///   - seed: Fixes every random choice: the same seed, the same fates. Each direction draws from a
    ///     generator of its own, derived from the seed.
    ///   - idleTimeout: How long a client's mapping with no traffic lasts before it is dropped.
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
        idleTimeout: Duration = .seconds(60),
        maxClients: Int = 1024,
        maximumHeld: (datagrams: Int, bytes: Int) = (100_000, 64 << 20)
    ) throws(UDPError) {
        let sockets = SocketTable()
        let listener = sockets.add(try UDPSocket(bindingTo: listen, nonBlocking: true))
        self.sockets = sockets
        machine = RelayMachine(
            listener: listener,
            up: up,
            down: down,
            seed: seed,
            idleTimeout: idleTimeout,
            maxClients: maxClients,
            maximumHeld: maximumHeld,
            openUpstream: {
                Result { () throws(UDPError) -> Int in
                    let upstream = try UDPSocket(family: target.family, nonBlocking: true)
                    try upstream.connect(to: target)
                    return sockets.add(upstream)
                }
            },
            closeUpstream: { sockets.remove($0) }
        )
    }

    /// The port the relay listens on.
    public var port: UInt16 { get throws(UDPError) { try sockets[0]!.socket.localAddress.port } }

    /// The counters now.
    public var counters: Counters { machine.counters }

    /// Relays until `stop` is requested. It sleeps until a datagram arrives, a delayed one is due, a client
    /// may expire (when the quietest mapping would pass the idle timeout), or the stop comes.
    ///
    /// - Parameters:
    ///   - stop: Ends the run when requested.
    ///   - reportInterval: How often `report` gets the counters; nil never.
    ///   - report: Called with the counters about every `reportInterval`.
    public mutating func run(
        until stop: StopSignal,
        reportInterval: Duration? = nil,
        report: (Counters) -> Void = { _ in }
    ) throws(UDPError) {
        machine.report(every: reportInterval, from: .now())
        try BatchDriver(stop: stop).run(&machine, on: sockets) { event in
            switch event {
            case .report(let counters): report(counters)
            }
        }
    }
}
