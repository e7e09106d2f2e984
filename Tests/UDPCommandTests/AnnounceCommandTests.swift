import Foundation
import NamespaceTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Browses `_http._tcp` with python-zeroconf on the interface with address argv[1] for up to 10 s, and prints the
/// first instance found, resolved: name, port, host, addresses, TXT.
private let zeroconfBrowser = #"""
    import sys, time
    from zeroconf import Zeroconf, ServiceBrowser, IPVersion, ServiceListener
    zc = Zeroconf(interfaces=[sys.argv[1]], ip_version=IPVersion.V4Only)
    found = []
    class Listener(ServiceListener):
        def add_service(self, zc, type_, name): found.append(name)
        def update_service(self, zc, type_, name): pass
        def remove_service(self, zc, type_, name): pass
    browser = ServiceBrowser(zc, "_http._tcp.local.", Listener())
    deadline = time.time() + 10
    while not found and time.time() < deadline:
        time.sleep(0.05)
    if found:
        info = zc.get_service_info("_http._tcp.local.", found[0], timeout=3000)
        print(found[0], info.port, info.server, ",".join(info.parsed_addresses()), info.properties, flush=True)
    zc.close()
    """#

// `udp announce` against python-zeroconf and against itself, in a namespace pair the test creates: multicast
// never leaves the two namespaces.
@Suite(
    "udp announce",
    .enabled(if: NamespacePair.available, "ip netns needs root and iproute2"),
    .enabled(if: zeroconfInstalled, "needs python-zeroconf (pip install zeroconf)")
)
struct AnnounceCommandTests {
    @Test("python-zeroconf finds and resolves what udp announce publishes")
    func zeroconfFindsIt() throws {
        let hosts = try NamespacePair()
        let announce = try hosts.udp(
            in: hosts.a,
            "announce",
            "Web Server",
            "_http._tcp",
            "8080",
            "path=/",
            "--host",
            "box",
            "-4"
        )
        let announced = try #require(announce.readLine(timeout: .seconds(10)))
        #expect(announced.hasPrefix("announced on \(hosts.vethA) IPv4: Web Server._http._tcp.local port 8080"))
        let browser = try Spawned([
            "/usr/sbin/ip", "netns", "exec", hosts.b, "/usr/bin/env", "python3", "-c", zeroconfBrowser, hosts.addressB,
        ])
        browser.closeStandardInput()
        let result = browser.wait(timeout: .seconds(20))
        // The interface's every address is published, its IPv6 ones too; the TXT as given.
        #expect(
            result.stdout.hasPrefix("Web Server._http._tcp.local. 8080 box.local. \(hosts.addressA),"),
            "zeroconf saw: \(result.stdout) \(result.stderr)"
        )
        #expect(result.stdout.hasSuffix(" {b'path': b'/'}\n"), "\(result.stdout)")
        announce.signal(SIGINT)
        #expect(announce.wait(timeout: .seconds(5)).status == 0)
    }

    @Test("a second announcer of the same name renames itself, and udp discover sees both, then the goodbye")
    func conflictAndGoodbye() throws {
        let hosts = try NamespacePair()
        let first = try hosts.udp(in: hosts.a, "announce", "Web Server", "_http._tcp", "8080", "--host", "one", "-4")
        #expect(try #require(first.readLine(timeout: .seconds(10))).hasPrefix("announced on "))
        let second = try hosts.udp(in: hosts.a, "announce", "Web Server", "_http._tcp", "9090", "--host", "two", "-4")
        let conflict = try #require(second.readLine(timeout: .seconds(10)))
        #expect(
            conflict == "conflict on \(hosts.vethA) IPv4: Web Server._http._tcp.local is taken, now "
                + "Web Server (2)._http._tcp.local",
            "\(conflict)"
        )
        #expect(
            try #require(second.readLine(timeout: .seconds(10))).contains("Web Server (2)._http._tcp.local port 9090")
        )

        let discover = try hosts.udp(in: hosts.b, "discover", "_http._tcp", "-4", "--watch")
        var resolved = Set<String>()
        while resolved.count < 2, let line = discover.readLine(timeout: .seconds(10)) {
            if line.hasPrefix("= ") { resolved.insert(line.contains("port 8080") ? "first" : "second") }
        }
        #expect(resolved == ["first", "second"])
        second.signal(SIGINT)
        #expect(second.wait(timeout: .seconds(5)).status == 0)
        let gone = try #require(discover.readLine(timeout: .seconds(10)))
        #expect(gone.hasPrefix("- \(hosts.vethB) IPv4 Web Server (2) _http._tcp local"), "\(gone)")
        first.signal(SIGINT)
        discover.signal(SIGINT)
        _ = first.wait(timeout: .seconds(5))
        _ = discover.wait(timeout: .seconds(5))
    }

    @Test("an address added while announcing is announced, and udp discover resolves the instance again with it")
    func followsAnAddressChange() throws {
        let hosts = try NamespacePair()
        let announce = try hosts.udp(in: hosts.a, "announce", "Web Server", "_http._tcp", "8080", "-4")
        #expect(announce.readLine(timeout: .seconds(10))?.hasPrefix("announced on") == true)
        let discover = try hosts.udp(in: hosts.b, "discover", "_http._tcp", "-4", "--json", "--watch")
        var resolved: String?
        while resolved == nil, let line = discover.readLine(timeout: .seconds(10)) {
            if line.contains(#""event": "resolved""#) { resolved = line }
        }
        #expect(resolved?.contains(hosts.addressA) == true, "\(String(describing: resolved))")
        let added = "198.18.\(hosts.subnet).77"
        try NamespacePair.ip("-n", hosts.a, "addr", "add", "\(added)/24", "dev", hosts.vethA)
        // Checked every five seconds, then announced: the browser hears the new record set.
        let again = announce.readLine(timeout: .seconds(10))
        #expect(again?.contains(added) == true, "\(String(describing: again))")
        var updated: String?
        while updated == nil, let line = discover.readLine(timeout: .seconds(10)) {
            if line.contains(#""event": "resolved""#) && line.contains(added) { updated = line }
        }
        #expect(updated != nil, "the new address was not resolved")
        announce.signal(SIGINT)
        discover.signal(SIGINT)
        #expect(announce.wait(timeout: .seconds(5)).status == 0)
        #expect(discover.wait(timeout: .seconds(5)).status == 0)
    }
}
