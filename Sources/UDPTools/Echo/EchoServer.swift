import UDP

/// The sockets of `udp echo` on one port: one per worker thread, and, on a wildcard address, one more per
/// address of the host and per worker; ``run(until:serve:share:)`` serves each on a thread of its own.
///
/// Workers share the port through `SO_REUSEPORT`, and the kernel spreads the peers among them. Bound to a
/// wildcard address (`0.0.0.0`, or `::`, which is dual-stack) the server binds one more socket to each of the
/// host's addresses on the port: the kernel hands a datagram to the socket bound to its destination rather than
/// to the wildcard one, and a reply from a socket bound to one address leaves from that address, with no packet
/// info on receive or send (which costs the kernel 5-7 % of a single-datagram flood, BENCHMARKS.md). The wildcard
/// socket, with packet info, still answers anything else: an address added later, a broadcast. An address that
/// cannot be bound now (IPv6 still checking for duplicates) is left to it.
///
/// ```swift
/// let server = try EchoServer(bindingTo: .any(.inet, port: 9999), options: .init(workers: 2))
/// let total = try server.run(until: stop) { member throws(UDPError) in
///     var reflector = Reflector()
///     try reflector.run(member.socket.socket, until: stop)
///     return reflector.counters
/// }
/// ```
public struct EchoServer: Sendable {
    /// What a socket is for, so that a caller can name it beside its counters.
    public enum Role: Sendable, Hashable {
        /// Worker `worker`'s socket on the address the server was asked to bind.
        case worker(Int)
        /// Worker `worker`'s socket on one of the host's own addresses, beside the wildcard ones.
        case localAddress(IPAddress, worker: Int)
    }

    /// One socket of the server, and what it is for.
    public struct Member: Sendable {
        /// The socket, bound.
        public let socket: SharedUDPSocket
        /// What it is for.
        public let role: Role
    }

    /// How every socket is set up.
    public struct Options: Sendable {
        /// Sockets (and threads) per address; more than one shares the port through `SO_REUSEPORT`.
        public var workers: Int
        /// The receive queue size to ask for (`SO_RCVBUF`); nil keeps the system's.
        public var receiveBufferSize: Int?
        /// Whether the kernel reports its drops (`SO_RXQ_OVFL`) and queues the ICMP errors replies draw
        /// (`IP_RECVERR`), for counters by kind.
        public var countsDrops: Bool
        /// Whether the kernel may coalesce datagrams into trains (UDP GRO, where it has it): not for an engine
        /// that reads a datagram at a time and could not split one.
        public var receiveOffload: Bool

        /// Each parameter sets the property of the same name.
        ///
        /// - Parameters:
        ///   - workers: Sockets (and threads) per address, at least 1.
        ///   - receiveBufferSize: The receive queue size to ask for; nil keeps the system's.
        ///   - countsDrops: Whether the kernel reports its drops and queues ICMP errors.
        ///   - receiveOffload: Whether the kernel may coalesce datagrams into trains.
        public init(
            workers: Int = 1,
            receiveBufferSize: Int? = nil,
            countsDrops: Bool = false,
            receiveOffload: Bool = true
        ) {
            precondition(workers >= 1, "a server needs a worker")
            self.workers = workers
            self.receiveBufferSize = receiveBufferSize
            self.countsDrops = countsDrops
            self.receiveOffload = receiveOffload
        }
    }

    /// The sockets: the workers' on the address asked, in order, then those on the host's own addresses.
    public let members: [Member]
    /// The address asked, with the port actually bound (the kernel's pick for port 0).
    public let address: SocketAddress

    /// Binds every socket before anything is served, so that a bad address fails before the first line.
    ///
    /// - Parameters:
    ///   - address: Where to bind; on a wildcard address the host's own addresses get sockets too.
    ///   - options: How every socket is set up.
    ///   - localAddresses: The host's addresses for a wildcard `address`; nil lists them now
    ///     (`NetworkInterface.addresses()`, none where the system cannot list them).
    /// - Throws: `UDPError` when a worker's socket cannot be made or bound on `address`.
    public init(
        bindingTo address: SocketAddress,
        options: Options = Options(),
        localAddresses: [InterfaceAddress]? = nil
    ) throws(UDPError) {
        let wildcard = address.ip.isUnspecified
        let first = try Self.makeSocket(address, options, sharingThePort: wildcard)
        var bound = address
        bound.port = try first.localAddress.port
        var members = [Member(socket: SharedUDPSocket(first), role: .worker(0))]
        for worker in 1..<options.workers {
            let socket = try Self.makeSocket(bound, options, sharingThePort: wildcard)
            members.append(Member(socket: SharedUDPSocket(socket), role: .worker(worker)))
        }
        if wildcard {
            let listed = localAddresses ?? (try? NetworkInterface.addresses()) ?? []
            members += Self.addressSockets(beside: bound, listed, options)
        }
        self.members = members
        self.address = bound
    }

    /// Whether some sockets are bound to the host's own addresses, beside the wildcard ones.
    public var hasAddressSockets: Bool {
        members.contains { if case .localAddress = $0.role { true } else { false } }
    }

    /// The sockets on each of `addresses` that `wildcard`'s family takes, `options.workers` each; an address
    /// stops at its first socket that cannot be bound.
    private static func addressSockets(
        beside wildcard: SocketAddress,
        _ addresses: [InterfaceAddress],
        _ options: Options
    ) -> [Member] {
        // An IPv6 wildcard socket is dual-stack (UDPSocket turns IPV6_V6ONLY off): the IPv4 addresses get theirs too.
        let dualStack = wildcard.family == .inet6
        var members: [Member] = []
        for local in addresses {
            let family = local.address.family
            guard family == wildcard.family || (dualStack && family == .inet) else { continue }
            let address = local.socketAddress(port: wildcard.port)
            for worker in 0..<options.workers {
                guard let socket = try? makeSocket(address, options, sharingThePort: true) else { break }
                members.append(
                    Member(socket: SharedUDPSocket(socket), role: .localAddress(local.address, worker: worker))
                )
            }
        }
        return members
    }

    /// A socket bound to `address`; `sharingThePort` lets sockets bound to the host's own addresses share the
    /// port with the wildcard one. `SO_REUSEPORT` rather than `SO_REUSEADDR`: the kernel then lets only this
    /// user's sockets on the port, and keeps each address's sockets a group of their own.
    private static func makeSocket(
        _ address: SocketAddress,
        _ options: Options,
        sharingThePort: Bool
    ) throws(UDPError) -> UDPSocket {
        let socket = try UDPSocket(family: address.family)
        if options.workers > 1 || sharingThePort { try socket.setReusePort(true) }
        try socket.bind(to: address)
        if options.countsDrops {
            try socket.setReceiveDropCount(true)
            // ICMP errors by kind: which peers have gone (the queue is Linux's; elsewhere the count stays 0).
            try? socket.setReceiveErrors(true)
        }
        if let size = options.receiveBufferSize { try socket.setReceiveBufferSize(size) }
        // GRO needs Linux 5.0; without it the server still works, a datagram at a time.
        if options.receiveOffload { try? socket.setGenericReceiveOffload(true) }
        return socket
    }
}

extension EchoServer.Role {
    /// The worker's number, from 0.
    public var worker: Int {
        switch self {
        case .worker(let worker), .localAddress(_, let worker): worker
        }
    }
}
