import Foundation
import NamespaceTesting
import Testing
import UDP
import UDPDNS

#if canImport(Glibc)
import Glibc
#endif

/// Publishes `_http._tcp` instance "Web Server" on host box.local, port 8080, TXT path=/ with python-zeroconf,
/// bound to `address` in namespace `ns`, until its stdin closes (then it says goodbye).
private let zeroconfAnnouncer = #"""
    import socket, sys
    from zeroconf import Zeroconf, ServiceInfo, IPVersion, InterfaceChoice
    address = sys.argv[1]
    if ":" in address:
        zc = Zeroconf(interfaces=InterfaceChoice.All, ip_version=IPVersion.V6Only)
        packed = socket.inet_pton(socket.AF_INET6, address)
    else:
        zc = Zeroconf(interfaces=[address], ip_version=IPVersion.V4Only)
        packed = socket.inet_aton(address)
    info = ServiceInfo("_http._tcp.local.", "Web Server._http._tcp.local.", addresses=[packed],
                       port=8080, properties={"path": "/"}, server="box.local.")
    zc.register_service(info)
    print("registered", flush=True)
    sys.stdin.read()
    zc.unregister_service(info)
    zc.close()
    """#

// `udp discover` against a real responder, python-zeroconf, on the other end of a veth pair: multicast stays
// inside the two namespaces the test creates.
@Suite(
    "udp discover",
    .enabled(if: NamespacePair.available, "ip netns needs root and iproute2"),
    .enabled(if: zeroconfInstalled, "needs python-zeroconf (pip install zeroconf)")
)
struct DiscoverCommandTests {
    @Test("finds and resolves what python-zeroconf publishes, and sees it leave", arguments: ["ipv4", "ipv6"])
    func findsZeroconf(family: String) throws {
        let hosts = try NamespacePair()
        let address = family == "ipv4" ? hosts.addressB : hosts.addressesOfB6[0]
        let announcer = try Spawned([
            "/usr/sbin/ip", "netns", "exec", hosts.b, "/usr/bin/env", "python3", "-c", zeroconfAnnouncer, address,
        ])
        #expect(announcer.readLine(timeout: .seconds(15)) == "registered")
        let (discover, resolved) = try hosts.discoverHTTP(family: family, instance: "Web Server", host: "box.local")
        #expect(resolved.contains(#""addresses": ["\#(address)"]"#), "\(resolved)")
        #expect(resolved.contains(#""txt": {"path": "/"}"#))
        // The goodbye: the instance leaves a second after it.
        announcer.closeStandardInput()
        let removed = try #require(discover.readLine(timeout: .seconds(10)))
        #expect(removed.contains(#""event": "removed""#), "\(removed)")
        discover.signal(SIGINT)
        #expect(discover.wait(timeout: .seconds(5)).status == 0)
    }

    @Test("a flood of malformed packets and forged records leaves it bounded and still finding the real one")
    func hostileLink() throws {
        let hosts = try NamespacePair()
        let discover = try hosts.udp(in: hosts.a, "discover", "_http._tcp", "-4", "--json", "--watch")
        // From B, as an on-link responder would send (port 5353, hop limit 255): garbage, then responses naming
        // 20,000 forged instances, far more than the cache holds.
        let target = SocketAddress(IPAddress(hosts.addressA)!, port: 5353)
        let forger = try insideNamespace(hosts.b) { () throws -> UDPSocket in
            let socket = try UDPSocket(family: .inet)
            try socket.setReusePort(true)
            try socket.setReuseAddress(true)
            try socket.bind(to: .any(.inet, port: 5353))
            try socket.setUnicastHops(255)
            return socket
        }
        for index in 0..<2_000 { try forger.send((0..<64).map { UInt8(truncatingIfNeeded: $0 * index) }, to: target) }
        let type = DNSName("_http._tcp.local")!
        for batch in 0..<1_000 {
            var response = DNSMessage(flags: 0x8400)
            for index in 0..<20 {
                let instance = try type.prepending(Array("forged \(batch * 20 + index)".utf8))
                response.answers.append(DNSRecord(name: type, ttl: 4500, data: .ptr(instance)))
            }
            try forger.send(try response.encoded(), to: target)
            // Its output is read as it comes, or a full pipe would stop it rather than the flood.
            while discover.readLine(timeout: .zero) != nil {}
        }
        // The real service, published after the flood, is still found and resolved.
        let announcer = try Spawned([
            "/usr/sbin/ip", "netns", "exec", hosts.b, "/usr/bin/env", "python3", "-c", zeroconfAnnouncer,
            hosts.addressB,
        ])
        #expect(announcer.readLine(timeout: .seconds(15)) == "registered")
        var resolvedReal = false
        while !resolvedReal, let line = discover.readLine(timeout: .seconds(15)) {
            resolvedReal = line.contains(#""event": "resolved""#) && line.contains(#""instance": "Web Server""#)
        }
        #expect(resolvedReal, "the real instance was not resolved after the flood")
        let status = try String(contentsOfFile: "/proc/\(discover.pid)/status", encoding: .utf8)
        let residentKiB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
        #expect((residentKiB ?? .max) < 100_000, "resident memory \(String(describing: residentKiB)) KiB")
        announcer.closeStandardInput()
        discover.signal(SIGINT)
        #expect(discover.wait(timeout: .seconds(5)).status == 0)
    }

    @Test("nothing on the link: exit 1 after the timeout")
    func nothingFound() throws {
        let hosts = try NamespacePair()
        let discover = try hosts.udp(in: hosts.a, "discover", "_nothing._tcp", "--timeout", "1.5")
        discover.closeStandardInput()
        let result = discover.wait(timeout: .seconds(10))
        #expect(result.status == 1 && result.stdout.isEmpty && result.stderr.isEmpty, "\(result)")
    }
}

extension NamespacePair {
    /// Starts `udp discover _http._tcp --json --watch` in A over `family` ("ipv4" or "ipv6") and reads the
    /// instance `instance`, published from B, appear on A's veth and resolve to `host` and port 8080: what every
    /// responder's test checks first. Returns the running `udp discover` and its `resolved` line, for the checks
    /// that differ from one responder to the next (addresses, TXT).
    func discoverHTTP(
        family: String,
        instance: String,
        host: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (discover: Spawned, resolved: String) {
        let discover = try udp(in: a, "discover", "_http._tcp", family == "ipv4" ? "-4" : "-6", "--json", "--watch")
        let new = try #require(discover.readLine(timeout: .seconds(10)), sourceLocation: sourceLocation)
        #expect(
            new.contains(#""event": "new""#) && new.contains(#""instance": "\#(instance)""#),
            "\(new)",
            sourceLocation: sourceLocation
        )
        #expect(
            new.contains(#""interface": "\#(vethA)""#) && new.contains(#""family": "\#(family)""#),
            "\(new)",
            sourceLocation: sourceLocation
        )
        let resolved = try #require(discover.readLine(timeout: .seconds(10)), sourceLocation: sourceLocation)
        #expect(resolved.contains(#""event": "resolved""#), "\(resolved)", sourceLocation: sourceLocation)
        #expect(resolved.contains(#""host": "\#(host)""#), "\(resolved)", sourceLocation: sourceLocation)
        #expect(resolved.contains(#""port": 8080"#), "\(resolved)", sourceLocation: sourceLocation)
        return (discover, resolved)
    }
}
