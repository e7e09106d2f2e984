import Foundation
import NamespaceTesting
import Synchronization
import Testing

@testable import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Shared fixtures: loopback sockets with a receive timeout, and network namespaces for what must not happen
// in the root namespace (broadcast, multicast membership, a real MTU).

/// Every receive in these tests gives up after this long, so a lost datagram fails a test instead of hanging it.
let receiveTimeout: Duration = .seconds(2)

/// How long a test waits to be sure that nothing arrives, once something that was sent later has arrived
/// (so the datagram that must not come has already been delivered or dropped).
let silenceWindow: Duration = .milliseconds(50)

let isRoot = getuid() == 0

extension AddressFamily {
    /// `127.0.0.1` or `::1`.
    var loopback: IPAddress { self == .inet ? .v4(.loopback) : .v6(.loopback) }
}

/// A socket bound to the loopback address of `family` on a port the kernel picks, with a receive timeout.
func loopbackSocket(_ family: AddressFamily, nonBlocking: Bool = false) throws -> UDPSocket {
    let socket = try UDPSocket(bindingTo: SocketAddress(family.loopback, port: 0), nonBlocking: nonBlocking)
    if !nonBlocking { try socket.setReceiveTimeout(receiveTimeout) }
    return socket
}

/// A socket on a port below the kernel's ephemeral range (32768 and up by default), for the tests that close a
/// socket and bind its port again: while the suite runs in parallel, a port 0 bind or an unbound send elsewhere
/// may be handed a just-released ephemeral port, but never one of these. Tries random ports until one is free.
func socketBelowTheEphemeralRange(_ family: AddressFamily) throws -> UDPSocket {
    var attempts = 0
    while true {
        let port = UInt16.random(in: 20_000..<32_000)
        do {
            return try UDPSocket(bindingTo: SocketAddress(family.loopback, port: port))
        } catch {
            attempts += 1
            if error.errno != .addressInUse || attempts == 100 { throw error }
        }
    }
}

/// Binds `address` again after this process closed the socket that held it.
///
/// A process that another test spawns at that moment briefly holds a copy of every descriptor (fork copies
/// them all; close-on-exec drops them only at its exec), so the port may stay taken for a few milliseconds
/// after our close. That is the child's copy, not a leak of ours: EADDRINUSE is retried for up to 2 s.
func bindAgain(_ address: SocketAddress) throws -> UDPSocket {
    let deadline = ContinuousClock.now + .seconds(2)
    while true {
        do {
            return try UDPSocket(bindingTo: address)
        } catch {
            guard error.errno == .addressInUse, ContinuousClock.now < deadline else { throw error }
            usleep(5_000)  // a retry's pause: the child's exec, which frees the port, cannot be awaited
        }
    }
}

/// A port nobody listens on: bound, read back and released.
func unusedPort(_ family: AddressFamily) throws -> UInt16 {
    let socket = try UDPSocket(bindingTo: SocketAddress(family.loopback, port: 0))
    let port = try socket.localAddress.port
    try socket.close()
    return port
}

/// The bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// `count` bytes that differ from datagram to datagram: `seed` first, then a running pattern.
func pattern(_ count: Int, seed: UInt8) -> [UInt8] {
    (0..<count).map { $0 == 0 ? seed : UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}

/// A socket option as its getter and setter, with the values to try, so that one parameterised test
/// round-trips every option of a kind (socket2's `test!` macro does the same for every option).
struct SocketOption<Value: Equatable & Sendable>: Sendable, CustomTestStringConvertible {
    let name: String
    /// What a new socket reads.
    let initial: Value
    /// Set in turn, each read back before the next.
    let values: [Value]
    let get: @Sendable (borrowing UDPSocket) throws -> Value
    let set: @Sendable (borrowing UDPSocket, Value) throws -> Void

    init(
        _ name: String,
        initially initial: Value,
        then values: [Value],
        _ get: @escaping @Sendable (borrowing UDPSocket) throws -> Value,
        _ set: @escaping @Sendable (borrowing UDPSocket, Value) throws -> Void
    ) {
        self.name = name
        self.initial = initial
        self.values = values
        self.get = get
        self.set = set
    }

    var testDescription: String { name }

    /// Reads the default, then sets each of ``values`` and reads the kernel's value back after each.
    func expectRoundTrip(on socket: borrowing UDPSocket, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try get(socket) == initial, "\(name) starts \(initial)", sourceLocation: sourceLocation)
        for value in values {
            try set(socket, value)
            #expect(try get(socket) == value, "\(name) set to \(value)", sourceLocation: sourceLocation)
        }
    }
}

extension SocketOption<Bool> {
    /// A boolean option: read its default, turn it the other way and back.
    init(
        _ name: String,
        initially initial: Bool,
        _ get: @escaping @Sendable (borrowing UDPSocket) throws -> Bool,
        _ set: @escaping @Sendable (borrowing UDPSocket, Bool) throws -> Void
    ) {
        self.init(name, initially: initial, then: [!initial, initial], get, set)
    }
}

/// Holds a socket so several can live in an array (a non-copyable struct cannot be an array element).
final class UDPSocketBox {
    let socket: UDPSocket
    init(_ socket: consuming UDPSocket) { self.socket = socket }
}

/// The index of `lo`, looked up in the calling thread's network namespace.
var loopbackInterfaceIndex: UInt32 { if_nametoindex("lo") }

/// Whether `/etc/hosts` maps `localhost` to `::1`. Without that line, resolving `localhost` for IPv6 would
/// ask the DNS server, which the tests must never do.
let hostsMapsLocalhostToIPv6: Bool = {
    guard let hosts = try? String(contentsOfFile: "/etc/hosts", encoding: .utf8) else { return false }
    return hosts.split(separator: "\n").contains { line in
        let fields = line.prefix { $0 != "#" }.split(whereSeparator: { $0 == " " || $0 == "\t" })
        return fields.first == "::1" && fields.dropFirst().contains("localhost")
    }
}()

// MARK: - Network namespaces

/// Numbers the namespace pairs of this process, so parallel tests never share a name.
private let namespaceCounter = Atomic<Int>(0)

/// Two network namespaces joined by a veth pair, for traffic that must not touch the root namespace:
/// `A` has `198.18.X.1/24` and `fd75:6470:X::1/64`, `B` has `.2` and `::2`, both ends and `lo` are up.
///
/// Create one with ``withNamespacePair(subnet:_:)``, which deletes everything afterwards.
struct NamespacePair: Sendable {
    let nameA: String
    let nameB: String
    let vethA: String
    let vethB: String
    let subnet: Int
    /// The veth interface indexes, each looked up inside its own namespace.
    var indexA: UInt32 = 0
    var indexB: UInt32 = 0

    var v4A: IPv4Address { IPv4Address(198, 18, UInt8(subnet), 1) }
    var v4B: IPv4Address { IPv4Address(198, 18, UInt8(subnet), 2) }
    var v4Broadcast: IPv4Address { IPv4Address(198, 18, UInt8(subnet), 255) }
    var v6A: IPv6Address { IPv6Address("fd75:6470:\(String(subnet, radix: 16))::1")! }
    var v6B: IPv6Address { IPv6Address("fd75:6470:\(String(subnet, radix: 16))::2")! }

    fileprivate init(subnet: Int) {
        let pid = getpid()
        let n = namespaceCounter.wrappingAdd(1, ordering: .relaxed).oldValue
        self.subnet = subnet
        nameA = "udpt-\(pid)-\(n)-a"
        nameB = "udpt-\(pid)-\(n)-b"
        // Interface names are limited to 15 characters (IFNAMSIZ - 1).
        let tag = "\(pid % 100_000)x\(n % 1000)"
        vethA = "ua\(tag)"
        vethB = "ub\(tag)"
    }

    fileprivate func create() throws {
        let x = subnet
        let hex = String(subnet, radix: 16)
        try runIP(["netns", "add", nameA])
        try runIP(["netns", "add", nameB])
        // Distinct interface indexes on the two ends: Linux delays a veth's link-up event by up to a second
        // (linkwatch rate limiting) unless its index differs from its peer's, and IPv6 waits for that event.
        try runIP([
            "link", "add", vethA, "netns", nameA, "index", "10", "type", "veth",
            "peer", "name", vethB, "netns", nameB, "index", "11",
        ])
        for (ns, veth, host) in [(nameA, vethA, 1), (nameB, vethB, 2)] {
            try runIP(["-n", ns, "addr", "add", "198.18.\(x).\(host)/24", "brd", "+", "dev", veth])
            try runIP(["-n", ns, "-6", "addr", "add", "fd75:6470:\(hex)::\(host)/64", "dev", veth, "nodad"])
            try runIP(["-n", ns, "link", "set", "lo", "up"])
            try runIP(["-n", ns, "link", "set", veth, "up"])
        }
        try waitUntilIPv6IsReady()
    }

    /// Waits until both ends have their multicast route (`ff00::/8`, added once IPv6 sees the link up):
    /// before that an IPv6 multicast datagram is dropped on arrival.
    private func waitUntilIPv6IsReady() throws {
        let deadline = ContinuousClock.now + .seconds(3)
        for ns in [nameA, nameB] {
            while !(try runIP(["-n", ns, "-6", "route", "show", "table", "local"]).contains("ff00::/8")) {
                guard ContinuousClock.now < deadline else {
                    throw NamespaceSetupError(description: "IPv6 did not come up in \(ns)")
                }
                usleep(10_000)
            }
        }
    }

    fileprivate func destroy() {
        // Deleting a namespace deletes the veth end inside it, and with it the peer.
        _ = try? runIP(["netns", "del", nameA])
        _ = try? runIP(["netns", "del", nameB])
    }

    /// Runs `body` on this thread inside namespace A: sockets it creates stay in A for their whole life.
    func inA<R: ~Copyable>(_ body: () throws -> R) throws -> R { try insideNamespace(nameA, body) }
    /// Runs `body` on this thread inside namespace B.
    func inB<R: ~Copyable>(_ body: () throws -> R) throws -> R { try insideNamespace(nameB, body) }
}

extension NamespacePair {
    /// B's second IPv4 address, `198.18.X.3` (``addSecondaryAddresses()``).
    var v4B2: IPv4Address { IPv4Address(198, 18, UInt8(subnet), 3) }
    /// B's second IPv6 address, `fd75:6470:X::3`.
    var v6B2: IPv6Address { IPv6Address("fd75:6470:\(String(subnet, radix: 16))::3")! }
    /// A's and B's own link-local addresses, `fe80::X:1` and `fe80::X:2`, beside those the kernel generates.
    var linkLocalA: IPv6Address { IPv6Address("fe80::\(String(subnet, radix: 16)):1")! }
    var linkLocalB: IPv6Address { IPv6Address("fe80::\(String(subnet, radix: 16)):2")! }

    /// Gives B a second IPv4 and IPv6 address, and both ends a link-local address of their own: a host with
    /// several addresses, for replies that must come from the one asked. Without duplicate address detection
    /// (`nodad`) every address is usable at once; the kernel's own link-local addresses may still be tentative
    /// for a second, so the tests use these.
    func addSecondaryAddresses() throws {
        try runIP(["-n", nameB, "addr", "add", "\(v4B2)/24", "dev", vethB])
        try runIP(["-n", nameB, "-6", "addr", "add", "\(v6B2)/64", "dev", vethB, "nodad"])
        try runIP(["-n", nameA, "-6", "addr", "add", "\(linkLocalA)/64", "dev", vethA, "nodad"])
        try runIP(["-n", nameB, "-6", "addr", "add", "\(linkLocalB)/64", "dev", vethB, "nodad"])
        let links = try runIP(["-n", nameB, "-6", "addr", "show", "dev", vethB, "scope", "link", "-tentative"])
        guard links.contains("\(linkLocalB)/64") else {
            throw NamespaceSetupError(description: "\(linkLocalB) is not usable on \(vethB): \(links)")
        }
    }
}

/// Creates a ``NamespacePair`` on subnet `198.18.subnet.0/24`, runs `body`, and deletes the namespaces.
func withNamespacePair<R>(subnet: Int, _ body: (NamespacePair) throws -> R) throws -> R {
    var pair = NamespacePair(subnet: subnet)
    defer { pair.destroy() }
    try pair.create()
    let (a, b) = (pair.vethA, pair.vethB)
    pair.indexA = try pair.inA { try NetworkInterface(named: a).index }
    pair.indexB = try pair.inB { try NetworkInterface(named: b).index }
    return try body(pair)
}
