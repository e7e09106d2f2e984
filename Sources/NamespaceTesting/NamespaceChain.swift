import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Three hosts in network namespaces, in a line: a client, a router that forwards, and a server, with a smaller
/// MTU on the router's far link. Where the tests see what only a path with a router shows: ICMP from a router
/// (network unreachable, time exceeded, fragmentation needed) and a path MTU below the client's own link's.
///
/// ```
/// client 198.18.1.2 ─── 198.18.1.1 router 198.18.2.1 ─── 198.18.2.2 server
///        fd75:6470:1::2   fd75:6470:1::1   fd75:6470:2::1 (mtu 1400)  fd75:6470:2::2
/// ```
///
/// The client and the server route everything through the router; the router knows only its two links, so
/// anything else draws "network unreachable". ICMP rate limits are off, so every error comes.
/// Create one with ``withNamespaceChain(_:)``, which deletes everything afterwards.
public struct NamespaceChain: Sendable {
    public let client: String
    public let router: String
    public let server: String
    /// The interface names, as each namespace sees them.
    public let clientLink = "near0"
    public let routerNearLink = "near1"
    public let routerFarLink = "far1"
    public let serverLink = "far0"

    /// The far link's MTU: the path MTU between client and server.
    public static let farMTU = 1400

    public static let clientV4 = "198.18.1.2"
    public static let routerNearV4 = "198.18.1.1"
    public static let routerFarV4 = "198.18.2.1"
    public static let serverV4 = "198.18.2.2"
    /// An address in no network the router knows.
    public static let nowhereV4 = "198.18.99.1"
    public static let clientV6 = "fd75:6470:1::2"
    public static let routerNearV6 = "fd75:6470:1::1"
    public static let routerFarV6 = "fd75:6470:2::1"
    public static let serverV6 = "fd75:6470:2::2"
    public static let nowhereV6 = "fd75:6470:99::1"

    /// One family's view of the chain, for tests that run once over IPv4 and once over IPv6.
    public struct Family: Sendable, CustomStringConvertible {
        /// "ipv4" or "ipv6", as `udp mtu --json` names them.
        public let name: String
        /// The router's address on the client's side: the sender of its ICMP errors.
        public let router: String
        public let server: String
        /// An address in no network the router knows.
        public let nowhere: String
        /// The wildcard address a server binds to.
        public let wildcard: String
        /// Bytes of IP and UDP header before each payload.
        public let headerSize: Int
        /// The largest UDP payload the far link carries (its MTU less the headers): 1372 or 1352.
        public var pathPayload: Int { NamespaceChain.farMTU - headerSize }
        /// The largest UDP payload the client's own link carries (1500 less the headers), too large for the path.
        public var linkPayload: Int { 1500 - headerSize }

        /// `address:port`, bracketed for IPv6.
        public func endpoint(_ address: String, _ port: UInt16) -> String {
            name == "ipv4" ? "\(address):\(port)" : "[\(address)]:\(port)"
        }

        public var description: String { name }
    }

    public static let ipv4 = Family(
        name: "ipv4",
        router: routerNearV4,
        server: serverV4,
        nowhere: nowhereV4,
        wildcard: "0.0.0.0",
        headerSize: 28
    )
    public static let ipv6 = Family(
        name: "ipv6",
        router: routerNearV6,
        server: serverV6,
        nowhere: nowhereV6,
        wildcard: "::",
        headerSize: 48
    )
    public static let families = [ipv4, ipv6]

    private static let counter = Atomic<Int>(0)

    init() {
        let n = Self.counter.wrappingAdd(1, ordering: .relaxed).oldValue
        let tag = "\(getpid())-\(n)"
        client = "udpchain-\(tag)-c"
        router = "udpchain-\(tag)-r"
        server = "udpchain-\(tag)-s"
    }

    func create() throws {
        for name in [client, router, server] {
            try runIP(["netns", "add", name])
            // No duplicate address detection: addresses are usable at once, not "tentative" for a second.
            try setSysctl("net.ipv6.conf.default.accept_dad=0", in: name)
            try setSysctl("net.ipv6.conf.all.accept_dad=0", in: name)
            // Every error comes: the tests count them.
            try setSysctl("net.ipv4.icmp_ratelimit=0", in: name)
            try setSysctl("net.ipv6.icmp.ratelimit=0", in: name)
            try runIP(["-n", name, "link", "set", "lo", "up"])
        }
        try setSysctl("net.ipv4.ip_forward=1", in: router)
        try setSysctl("net.ipv6.conf.all.forwarding=1", in: router)
        // Distinct indexes on the two ends of a veth: Linux otherwise delays the link-up event by up to a second.
        try runIP([
            "link", "add", clientLink, "netns", client, "index", "20", "type", "veth",
            "peer", "name", routerNearLink, "netns", router, "index", "21",
        ])
        try runIP([
            "link", "add", routerFarLink, "netns", router, "index", "22", "type", "veth",
            "peer", "name", serverLink, "netns", server, "index", "23",
        ])
        let addresses = [
            (client, clientLink, Self.clientV4, Self.clientV6),
            (router, routerNearLink, Self.routerNearV4, Self.routerNearV6),
            (router, routerFarLink, Self.routerFarV4, Self.routerFarV6),
            (server, serverLink, Self.serverV4, Self.serverV6),
        ]
        for (name, link, v4, v6) in addresses {
            try runIP(["-n", name, "addr", "add", "\(v4)/24", "dev", link])
            try runIP(["-n", name, "-6", "addr", "add", "\(v6)/64", "dev", link, "nodad"])
            if link == routerFarLink || link == serverLink {
                try runIP(["-n", name, "link", "set", link, "mtu", "\(Self.farMTU)"])
            }
            try runIP(["-n", name, "link", "set", link, "up"])
        }
        try runIP(["-n", client, "route", "add", "default", "via", Self.routerNearV4])
        try runIP(["-n", client, "-6", "route", "add", "default", "via", Self.routerNearV6])
        try runIP(["-n", server, "route", "add", "default", "via", Self.routerFarV4])
        try runIP(["-n", server, "-6", "route", "add", "default", "via", Self.routerFarV6])
        for (name, link) in [
            (client, clientLink), (router, routerNearLink), (router, routerFarLink), (server, serverLink),
        ] {
            try waitUntil("\(link) up in \(name)") {
                try runIP(["-n", name, "link", "show", link]).contains("LOWER_UP")
            }
        }
    }

    func destroy() {
        // Deleting a namespace deletes the veth ends inside it, and with them their peers.
        for name in [client, router, server] { _ = try? runIP(["netns", "del", name]) }
    }

    /// Runs `body` on this thread inside the client's namespace: sockets it creates stay there for good.
    public func inClient<R: ~Copyable>(_ body: () throws -> R) throws -> R { try insideNamespace(client, body) }
    /// Runs `body` on this thread inside the router's namespace.
    public func inRouter<R: ~Copyable>(_ body: () throws -> R) throws -> R { try insideNamespace(router, body) }
    /// Runs `body` on this thread inside the server's namespace.
    public func inServer<R: ~Copyable>(_ body: () throws -> R) throws -> R { try insideNamespace(server, body) }
}

/// Creates a ``NamespaceChain``, runs `body`, and deletes the namespaces, whatever `body` does.
public func withNamespaceChain<R>(_ body: (NamespaceChain) throws -> R) throws -> R {
    let chain = NamespaceChain()
    defer { chain.destroy() }
    try chain.create()
    return try body(chain)
}
