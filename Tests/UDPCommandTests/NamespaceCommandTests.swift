import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Two hosts in network namespaces the test creates, joined by a veth pair, deleted afterwards: the only place
/// where these tests broadcast or multicast. Addresses come from 198.18.0.0/15 and fd75:6470::/32.
final class NamespacePair {
    let a: String
    let b: String
    let vethA: String
    let vethB: String
    let subnet: Int
    var addressA: String { "198.18.\(subnet).1" }
    var addressB: String { "198.18.\(subnet).2" }
    var broadcastAddress: String { "198.18.\(subnet).255" }
    /// B's addresses once ``addSecondaryAddresses()`` has run: two of each family.
    var addressesOfB: [String] { ["198.18.\(subnet).2", "198.18.\(subnet).3"] }
    var addressesOfB6: [String] { ["fd75:6470:\(subnet)::2", "fd75:6470:\(subnet)::3"] }

    private static let counter = Mutex(0)

    init() throws {
        let serial = NamespacePair.counter.withLock { value -> Int in
            value += 1
            return value
        }
        let tag = "\(getpid() % 100_000)c\(serial)"
        a = "udpc-\(tag)-a"
        b = "udpc-\(tag)-b"
        vethA = "uca\(tag)"
        vethB = "ucb\(tag)"
        subnet = 100 + serial % 100
        try Self.ip("netns", "add", a)
        try Self.ip("netns", "add", b)
        for ns in [a, b] {
            // No duplicate address detection: addresses are usable at once instead of "tentative" for a second.
            try Self.run(["/usr/sbin/ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"])
        }
        try Self.ip("link", "add", vethA, "netns", a, "type", "veth", "peer", "name", vethB, "netns", b)
        for (ns, veth, host) in [(a, vethA, 1), (b, vethB, 2)] {
            try Self.ip("-n", ns, "link", "set", "lo", "up")
            try Self.ip("-n", ns, "addr", "add", "198.18.\(subnet).\(host)/24", "dev", veth)
            try Self.ip("-n", ns, "addr", "add", "fd75:6470:\(subnet)::\(host)/64", "dev", veth, "nodad")
            try Self.ip("-n", ns, "link", "set", veth, "up")
        }
        try waitUntilReady()
    }

    /// Waits until both ends have carrier and IPv6 on them is up: a datagram sent earlier can be dropped.
    private func waitUntilReady() throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            let ready = try [(a, vethA), (b, vethB)].allSatisfy { ns, veth in
                let link = try Self.output(["/usr/sbin/ip", "-n", ns, "link", "show", veth])
                let route = try Self.output(["/usr/sbin/ip", "-n", ns, "-6", "route", "show", "table", "local"])
                let tentative = try Self.output([
                    "/usr/sbin/ip", "-n", ns, "-6", "addr", "show", "dev", veth, "tentative",
                ])
                return link.contains("LOWER_UP") && route.contains("ff00::/8 dev \(veth)") && tentative.isEmpty
            }
            if ready { return }
            usleep(20_000)
        }
        throw NamespaceError(message: "veth pair \(vethA)/\(vethB) did not come up")
    }

    /// Gives B a second IPv4 and IPv6 address: a host where a server bound to a wildcard address must answer
    /// from the address it was asked on.
    func addSecondaryAddresses() throws {
        try Self.ip("-n", b, "addr", "add", "198.18.\(subnet).3/24", "dev", vethB)
        try Self.ip("-n", b, "addr", "add", "fd75:6470:\(subnet)::3/64", "dev", vethB, "nodad")
    }

    deinit {
        try? Self.ip("netns", "del", a)  // deleting a namespace deletes its end of the veth, and so the pair
        try? Self.ip("netns", "del", b)
    }

    /// Runs `udp` inside namespace `ns`.
    func udp(in ns: String, _ arguments: String...) throws -> Spawned {
        try Spawned(["/usr/sbin/ip", "netns", "exec", ns, udpBinary] + arguments)
    }

    static func ip(_ arguments: String...) throws { try run(["/usr/sbin/ip"] + arguments) }

    static func run(_ arguments: [String]) throws { _ = try output(arguments) }

    static func output(_ arguments: [String]) throws -> String {
        let process = try Spawned(arguments)
        process.closeStandardInput()
        let result = process.wait()
        guard result.status == 0 else {
            throw NamespaceError(message: "\(arguments.joined(separator: " ")): \(result.stderr)")
        }
        return result.stdout
    }

    static var available: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") }
}

struct NamespaceError: Error { var message: String }

@Suite("CLI across two network namespaces", .enabled(if: NamespacePair.available, "ip netns needs root and iproute2"))
struct NamespaceCommandTests {
    @Test("send --broadcast reaches a listener on the other host; without --broadcast it is refused")
    func broadcast() throws {
        let hosts = try NamespacePair()
        let listener = try hosts.udp(in: hosts.b, "listen", "--port", "0")
        let port = try listener.listeningPort()
        let refused = try hosts.udp(in: hosts.a, "send", "\(hosts.broadcastAddress):\(port)", "nope", "--no-reply")
        refused.closeStandardInput()
        expectOneLineError(refused.wait(), containing: "--broadcast")
        let sent = try hosts.udp(
            in: hosts.a,
            "send",
            "\(hosts.broadcastAddress):\(port)",
            "to all",
            "--broadcast",
            "--no-reply"
        )
        sent.closeStandardInput()
        #expect(sent.wait().status == 0)
        #expect(try #require(listener.readLine()).hasPrefix("from \(hosts.addressA):"))
    }

    @Test(
        "listen --join receives a group's datagrams from the other host",
        arguments: [("239.1.2.3", "v4"), ("ff15::1234", "v6")]
    )
    func multicast(group: String, label: String) throws {
        let hosts = try NamespacePair()
        let listener = try hosts.udp(in: hosts.b, "listen", "--port", "0", "--join", group, "--interface", hosts.vethB)
        let port = try listener.listeningPort()
        let destination = label == "v4" ? "\(group):\(port)" : "[\(group)]:\(port)"
        let sender = try hosts.udp(
            in: hosts.a,
            "send",
            destination,
            "hello group",
            "--multicast-interface",
            hosts.vethA,
            "--multicast-ttl",
            "1",
            "--no-reply"
        )
        sender.closeStandardInput()
        #expect(sender.wait().status == 0)
        let line = try #require(listener.readLine())
        #expect(line.hasSuffix("#1: hello group"))
    }

    @Test("send --broadcast collects the reply of every host that answers within the timeout")
    func broadcastReplies() throws {
        let hosts = try NamespacePair()
        let responder = try hosts.udp(in: hosts.b, "echo", "--port", "0", "--prefix", "ack: ")
        let port = try responder.listeningPort()
        let asker = try hosts.udp(
            in: hosts.a,
            "send",
            "\(hosts.broadcastAddress):\(port)",
            "who",
            "--broadcast",
            "--timeout",
            "0.5",
            "--verbose"
        )
        asker.closeStandardInput()
        let result = asker.wait()
        #expect(result.status == 0)
        #expect(result.stdout == "ack: who\n")
        #expect(result.stderr.contains("reply from \(hosts.addressB):\(port)"))
    }
}

/// How `udp echo` answers, and the `udp send` flags that speak to it.
enum EchoMode: String, Sendable, CustomStringConvertible {
    case plain, prefix, framed, sealed
    var description: String { rawValue }

    /// Every mode of this build of udp: sealed only with the package trait `Sealing`.
    static var built: [EchoMode] {
        sealingIsBuiltIn ? [.plain, .prefix, .framed, .sealed] : [.plain, .prefix, .framed]
    }
}

@Suite(
    "udp echo on a host with several addresses",
    .enabled(if: NamespacePair.available, "ip netns needs root and iproute2")
)
struct EchoSourceAddressCommandTests {
    @Test(
        "echo bound to a wildcard address answers from the address asked; a connected client takes the reply",
        arguments: ["0.0.0.0", "::"],
        EchoMode.built
    )
    func repliesFromTheAddressAsked(host: String, mode: EchoMode) throws {
        try checkRepliesFromTheAddressAsked(host: host, mode: mode, addressesAdded: .beforeTheStart)
    }

    /// When B's second addresses come: before the server starts (each gets a socket of its own), or after (the
    /// wildcard socket answers them, setting the source with packet info).
    enum AddressesAdded { case beforeTheStart, afterTheStart }

    @Test(
        "an address added after the start is answered by the wildcard socket, from that address",
        arguments: ["0.0.0.0", "::"]
    )
    func addressAddedLater(host: String) throws {
        try checkRepliesFromTheAddressAsked(host: host, mode: .plain, addressesAdded: .afterTheStart)
    }

    private func checkRepliesFromTheAddressAsked(
        host: String,
        mode: EchoMode,
        addressesAdded: AddressesAdded
    ) throws {
        let hosts = try NamespacePair()
        if addressesAdded == .beforeTheStart { try hosts.addSecondaryAddresses() }
        let key = "/tmp/udp-key-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).key"
        defer { unlink(key) }
        var serverFlags: [String] = []
        var clientFlags: [String] = []
        switch mode {
        case .plain: break
        case .prefix: serverFlags = ["--prefix", "ack: "]
        case .framed: (serverFlags, clientFlags) = (["--framed", "--prefix", "ack: "], ["--framed"])
        case .sealed:
            #expect(try runUDP("keygen", "--output", key).status == 0)
            (serverFlags, clientFlags) = (["--key-file", key], ["--key-file", key])
        }
        let server = try Spawned(
            ["/usr/sbin/ip", "netns", "exec", hosts.b, udpBinary, "echo", "--host", host, "--port", "0"] + serverFlags
        )
        let port = try server.listeningPort()
        if addressesAdded == .afterTheStart { try hosts.addSecondaryAddresses() }
        // A dual-stack server answers its IPv4 clients as v4-mapped peers.
        let targets = host == "::" ? hosts.addressesOfB6.map { "[\($0)]" } + hosts.addressesOfB : hosts.addressesOfB
        for target in targets {
            // `udp send` connects to a unicast destination: a reply from another address never reaches it.
            let client = try Spawned(
                [
                    "/usr/sbin/ip", "netns", "exec", hosts.a, udpBinary, "send", "\(target):\(port)", "hello",
                    "--timeout", "2",
                ] + clientFlags
            )
            client.closeStandardInput()
            let result = client.wait()
            #expect(result.status == 0, "via \(target): \(result.stderr)")
            let expected = mode == .prefix || mode == .framed ? "ack: hello\n" : "hello\n"
            #expect(result.stdout == expected, "via \(target)")
        }
    }
}
