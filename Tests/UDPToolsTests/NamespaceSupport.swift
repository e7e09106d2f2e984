import Foundation
import NamespaceTesting
import Synchronization
import UDP

#if canImport(Glibc)
import Glibc
#endif

// Two hosts in network namespaces the test creates, joined by a veth pair and deleted afterwards, as UDPTests'
// `withNamespacePair`: B has two addresses of each family, for an engine that must answer from the one asked.
// Addresses come from 198.18.0.0/15 and fd75:6470::/32; nothing touches the root namespace.

let isRoot = getuid() == 0

/// Numbers this process's host pairs, so parallel tests never share a name.
private let hostPairCounter = Atomic<Int>(0)

/// Namespace A (`198.18.X.1`, `fd75:6470:X::1`) and namespace B (`.2` and `.3`, `::2` and `::3`) joined by a
/// veth pair; every address is usable at once (`nodad`).
struct HostPair: Sendable {
    let nameA: String
    let nameB: String
    let vethA: String
    let vethB: String
    let subnet: Int

    /// B's addresses that a server bound to the wildcard address of `family` answers on: a dual-stack one
    /// answers the IPv4 ones too, from v4-mapped peers.
    func addressesOfB(_ family: AddressFamily) -> [IPAddress] {
        let hex = String(subnet, radix: 16)
        let v4: [IPAddress] = [2, 3].map { .v4(IPv4Address(198, 18, UInt8(subnet), $0)) }
        let v6: [IPAddress] = [2, 3].map { .v6(IPv6Address("fd75:6470:\(hex)::\($0)")!) }
        return family == .inet ? v4 : v6 + v4
    }

    fileprivate init(subnet: Int) {
        let n = hostPairCounter.wrappingAdd(1, ordering: .relaxed).oldValue
        self.subnet = subnet
        nameA = "udptl-\(getpid())-\(n)-a"
        nameB = "udptl-\(getpid())-\(n)-b"
        // Interface names are limited to 15 characters.
        let tag = "\(getpid() % 100_000)x\(n % 1000)"
        vethA = "ta\(tag)"
        vethB = "tb\(tag)"
    }

    fileprivate func create() throws {
        let hex = String(subnet, radix: 16)
        try runIP(["netns", "add", nameA])
        try runIP(["netns", "add", nameB])
        // Distinct interface indexes on the two ends, or Linux may delay the link-up event IPv6 waits for.
        try runIP([
            "link", "add", vethA, "netns", nameA, "index", "10", "type", "veth",
            "peer", "name", vethB, "netns", nameB, "index", "11",
        ])
        for (ns, veth, hosts) in [(nameA, vethA, [1]), (nameB, vethB, [2, 3])] {
            for host in hosts {
                try runIP(["-n", ns, "addr", "add", "198.18.\(subnet).\(host)/24", "dev", veth])
                try runIP(["-n", ns, "-6", "addr", "add", "fd75:6470:\(hex)::\(host)/64", "dev", veth, "nodad"])
            }
            try runIP(["-n", ns, "link", "set", "lo", "up"])
            try runIP(["-n", ns, "link", "set", veth, "up"])
        }
        // IPv6 is up once the link is: its multicast route is the sign.
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

/// Creates a ``HostPair`` on subnet `198.18.subnet.0/24`, runs `body`, and deletes the namespaces.
func withHostPair<R>(subnet: Int, _ body: (HostPair) throws -> R) throws -> R {
    let pair = HostPair(subnet: subnet)
    defer { pair.destroy() }
    try pair.create()
    return try body(pair)
}
