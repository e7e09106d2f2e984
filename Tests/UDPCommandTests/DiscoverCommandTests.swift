import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Whether python-zeroconf is installed (`.ci/run` installs it with pip): the mDNS responder these tests find.
private let hasZeroconf: Bool = {
    let process = try? Spawned(["/usr/bin/env", "python3", "-c", "import zeroconf"])
    process?.closeStandardInput()
    return process?.wait().status == 0
}()

/// Publishes `_http._tcp` instance "Web Server" on host box.local, port 8080, TXT path=/ with python-zeroconf,
/// bound to `address` in namespace `ns`, until its stdin closes (then it says goodbye).
private let zeroconfAnnouncer = #"""
    import socket, sys
    from zeroconf import Zeroconf, ServiceInfo, IPVersion
    address = sys.argv[1]
    zc = Zeroconf(interfaces=[address], ip_version=IPVersion.V4Only)
    info = ServiceInfo("_http._tcp.local.", "Web Server._http._tcp.local.", addresses=[socket.inet_aton(address)],
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
    .enabled(if: hasZeroconf, "needs python-zeroconf (pip install zeroconf)")
)
struct DiscoverCommandTests {
    @Test("finds and resolves what python-zeroconf publishes, and sees it leave")
    func findsZeroconf() throws {
        let hosts = try NamespacePair()
        let announcer = try Spawned([
            "/usr/sbin/ip", "netns", "exec", hosts.b, "/usr/bin/env", "python3", "-c", zeroconfAnnouncer,
            hosts.addressB,
        ])
        #expect(announcer.readLine(timeout: .seconds(15)) == "registered")
        let discover = try hosts.udp(in: hosts.a, "discover", "_http._tcp", "-4", "--json", "--watch")
        let new = try #require(discover.readLine(timeout: .seconds(10)))
        #expect(new.contains(#""event": "new""#) && new.contains(#""instance": "Web Server""#), "\(new)")
        #expect(new.contains(#""interface": "\#(hosts.vethA)""#) && new.contains(#""family": "ipv4""#))
        let resolved = try #require(discover.readLine(timeout: .seconds(10)))
        #expect(resolved.contains(#""event": "resolved""#), "\(resolved)")
        #expect(resolved.contains(#""host": "box.local""#))
        #expect(resolved.contains(#""addresses": ["\#(hosts.addressB)"]"#))
        #expect(resolved.contains(#""port": 8080"#))
        #expect(resolved.contains(#""txt": {"path": "/"}"#))
        // The goodbye: the instance leaves a second after it.
        announcer.closeStandardInput()
        let removed = try #require(discover.readLine(timeout: .seconds(10)))
        #expect(removed.contains(#""event": "removed""#), "\(removed)")
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
