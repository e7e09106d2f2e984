import Foundation
import Testing
import UDP

/// What `udp echo --framed --key-file` says: a build without sealed datagrams refuses the key first.
private let framedWithKeyFile =
    sealingIsBuiltIn ? "--framed does not combine with --key-file" : "--key-file needs sealed datagrams"

/// Every bad input ends in one line on stderr naming what was wrong and a non-zero exit: no crash, no hang.
@Suite("bad input")
struct BadInputTests {
    @Test(
        arguments: [
            (["echo", "--port", "70000"], "port 70000 is out of range 0-65535"),
            (["listen", "--port=-1"], "port -1 is out of range 0-65535"),
            (["send", "127.0.0.1:70000", "x"], "port 70000 is out of range 0-65535"),
            (["send", "127.0.0.1:http", "x"], "port 'http' is not a number"),
            (["send", "127.0.0.1", "x"], "needs a port"),
            (["send", "::1:9000", "x"], "brackets"),
            (["send", "[::1:9000", "x"], "closing ']'"),
            (["send", "[::1]:9", "x", "-4"], "IPv6 address, but IPv4 was asked for"),
            (["send", "127.0.0.1:9", "x", "--timeout", "0"], "--timeout"),
            (["send", "127.0.0.1:9", "x", "--timeout", "soon"], "soon"),
            (["send", "127.0.0.1:9", "x", "-4", "-6"], "-4 and -6"),
            (["send", "255.255.255.255:9", "x"], "pass --broadcast"),
            (["send", "239.1.1.1:9", "x", "--multicast-interface", "nosuch0"], "no network interface named 'nosuch0'"),
            (["send", "[fe80::1%nosuch0]:9", "x"], "no network interface named 'nosuch0'"),
            (
                ["listen", "--join", "239.1.1.1", "--interface", "nosuch0", "--port", "0"],
                "no network interface named 'nosuch0'"
            ),
            (["listen", "--join", "10.1.2.3", "--port", "0"], "not a multicast group"),
            (["listen", "--buffer", "0", "--port", "0"], "--buffer"),
            (["echo", "--receive-buffer", "0", "--port", "0"], "--receive-buffer"),
            (["echo", "--host", "0.0.0.0:9000", "--port", "0"], "'0.0.0.0:9000' is not an IP address or a host name"),
            (["echo", "--host", "", "--port", "0"], "'' is not an IP address or a host name: it is empty"),
            (["send", "127.0.0.1%lo:9", "x"], "a %scope follows an IPv6 address only"),
            (["send", "bad host:9", "x"], "letters, digits"),
            (["send", "127.0.0.1:0", "x"], "port 0 is not a destination"),
            (["echo", "--framed", "--rate-limit", "10", "--port", "0"], "--framed does not combine with --rate-limit"),
            (["echo", "--framed", "--key-file", "/dev/null", "--port", "0"], framedWithKeyFile),
            (["echo", "--host", "192.0.2.1", "--port", "0"], "cannot assign requested address"),
            (["nosuch"], "nosuch"),
            // Discovery's usage errors stop before any socket opens, so none of these multicasts.
            (["discover", "--st", "upnp:rootdevice"], "--st goes with --ssdp or --all"),
            (["discover", "--ssdp", "--all"], "--ssdp and --all exclude each other"),
            (["discover", "_http._tcp", "--ssdp"], "with --ssdp, use --st"),
            (["discover", "--ssdp", "--st", "a b"], "is not a search target"),
            (["announce", "--ssdp", "--location", "http://198.18.0.1/d.xml"], "--ssdp needs --st"),
            (["announce", "--ssdp", "--st", "upnp:rootdevice"], "--ssdp needs --location"),
            (["announce", "--ssdp", "--st", "upnp:rootdevice", "--location", "ftp://x/"], "--ssdp needs --location"),
            (
                ["announce", "--ssdp", "--st", "upnp:rootdevice", "--location", "http://x/", "--uuid", "not-hex!"],
                "is not a UUID"
            ),
            (["announce", "--st", "upnp:rootdevice"], "--st, --location and --uuid go with --ssdp"),
            (["announce", "Web"], "give INSTANCE, TYPE and PORT"),
            (["ntp", "127.0.0.1", "--count", "0"], "--count must be 1-100"),
            (["ntp", "127.0.0.1", "--timeout", "0"], "--timeout must be"),
            (["ntp", "127.0.0.1", "--interval", "0.001"], "--interval must be between"),
            (["ntp", "127.0.0.1:0"], "port 0 is not an NTP server's port"),
            (["ntp", "[::1"], "closing ']'"),
        ] as [([String], String)]
    )
    func rejected(arguments: [String], message: String) throws {
        let process = try Spawned([udpBinary] + arguments)
        process.closeStandardInput()
        expectOneLineError(process.wait(), containing: message)
    }

    @Test("an address in use is named with the address")
    func addressInUse() throws {
        let holder = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let port = try holder.localAddress.port
        let result = try runUDP("echo", "--host", "127.0.0.1", "--port", "\(port)")
        expectOneLineError(result, containing: "bind 127.0.0.1:\(port): address already in use")
    }

    @Test("an oversized payload is refused before sending, naming both sizes")
    func oversizedPayload() throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let port = try server.localAddress.port
        let big = String(repeating: "a", count: 65_508)
        let result = try runUDP("send", "127.0.0.1:\(port)", big)
        expectOneLineError(result, containing: "datagram of 65508 bytes is larger than the maximum of 65507 bytes")
        try server.setReceiveTimeout(.milliseconds(100))
        #expect(throws: UDPError.self) { _ = try server.receive() }
    }

    @Test(
        "an unknown host name is a one-line resolution error (in a private network namespace: no DNS query leaves)",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") && getuid() == 0)
    )
    func unknownHost() throws {
        // Both are host names to the resolver: "300.1.1.1" is no IPv4 literal, so it too would go to DNS.
        for (host, flags) in [("no-such-host.invalid", [String]()), ("300.1.1.1", ["-4"])] {
            let process = try Spawned(["/usr/bin/unshare", "-n", udpBinary, "send", "\(host):9", "x"] + flags)
            process.closeStandardInput()
            expectOneLineError(process.wait(timeout: .seconds(30)), containing: "cannot resolve '\(host)'")
        }
    }

    @Test(
        "a privileged port without the privilege: one line, 'permission denied' (as nobody, through setpriv)",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") && getuid() == 0)
    )
    func permissionDenied() throws {
        let nobody = ["/usr/bin/setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", udpBinary]
        // The build folder must be reachable by nobody; where it is not (a home folder of mode 700), skip.
        guard try Spawned(nobody + ["--help"]).wait().status == 0 else { return }
        // Port 80 must be privileged here (net.ipv4.ip_unprivileged_port_start, 1024 by default).
        let start = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_unprivileged_port_start", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard let start, start > 80 else { return }
        let result = try Spawned(nobody + ["echo", "--host", "127.0.0.1", "--port", "80"]).wait()
        expectOneLineError(result, containing: "bind 127.0.0.1:80: permission denied")
    }

    @Test(
        "--join with the other family's --host, or groups of both families, is a one-line error (in unshare -n)",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") && getuid() == 0),
        arguments: [
            (["--host", "::", "--join", "239.1.2.3"], "--join 239.1.2.3 is an IPv4 group, but --host :: is IPv6"),
            (["--join", "239.1.2.3", "--join", "ff15::1"], "one listener joins groups of one family"),
        ]
    )
    func joinFamilyMismatch(arguments: [String], message: String) throws {
        // A private namespace, so that a join that should have been refused reports nothing to the host's network.
        let process = try Spawned(["/usr/bin/unshare", "-n", udpBinary, "listen", "--port", "0"] + arguments)
        expectOneLineError(process.wait(timeout: .seconds(30)), containing: message)
    }
}
