import CNamespaceTesting
import Foundation
import Synchronization
import UDP

#if canImport(Glibc)
import Glibc
#endif

// Two hosts in network namespaces the test creates, joined by a veth pair and deleted afterwards, as UDPTests'
// `withNamespacePair`: B has two addresses of each family, for an engine that must answer from the one asked.
// Addresses come from 198.18.0.0/15 and fd75:6470::/32; nothing touches the root namespace.

let isRoot = getuid() == 0

/// Where `ip` lives, if it is installed.
let ipCommand: String? = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

struct NamespaceSetupError: Error, CustomStringConvertible {
    var description: String
}

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

/// Moves this thread into namespace `name` for the duration of `body`, then back.
private func insideNamespace<R: ~Copyable>(_ name: String, _ body: () throws -> R) throws -> R {
    let target = open("/var/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
    guard target >= 0 else { throw NamespaceSetupError(description: "open netns \(name): \(Errno.current)") }
    defer { _ = close(target) }
    let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
    guard original >= 0 else { throw NamespaceSetupError(description: "open own netns: \(Errno.current)") }
    defer { _ = close(original) }
    guard enter_network_namespace(target) == 0 else {
        throw NamespaceSetupError(description: "setns \(name): \(Errno.current)")
    }
    defer {
        // A pool thread left in a test namespace would put later tests' sockets there: stop instead.
        precondition(enter_network_namespace(original) == 0, "cannot return to the original network namespace")
    }
    return try body()
}

/// Runs `ip` with `arguments` and returns its output, throwing its standard error when it fails.
@discardableResult
private func runIP(_ arguments: [String]) throws -> String {
    guard let ipCommand else { throw NamespaceSetupError(description: "no ip command") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ipCommand)
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let outputText = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw NamespaceSetupError(
            description: "ip \(arguments.joined(separator: " ")): exit \(process.terminationStatus): \(errorText)"
        )
    }
    return outputText
}
