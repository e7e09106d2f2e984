import Foundation
import NamespaceTesting
import Testing
import UDP
import UDPNTP

#if canImport(Glibc)
import Glibc
#endif

/// Whether chrony's chronyd is installed (`.ci/run` installs it, started by nothing): the NTP server `udp ntp`
/// is tested against, started by each test inside its own namespace.
let chronyInstalled = FileManager.default.isExecutableFile(atPath: "/usr/sbin/chronyd")

extension NamespacePair {
    /// Starts chronyd in namespace B as a local-stratum-10 server with no upstream (no `server` or `pool`
    /// line, and the namespace has no route out), serving B's addresses, never touching the clock (`-x`), with
    /// its command port and socket off; returns once it answers.
    func startChrony(in directory: URL) throws -> Spawned {
        let config = """
            local stratum 10
            allow 198.18.0.0/15
            allow fd75:6470::/32
            bindaddress \(addressB)
            bindaddress \(addressesOfB6[0])
            cmdport 0
            bindcmdaddress /
            pidfile \(directory.path)/chronyd.pid
            driftfile \(directory.path)/drift
            """
        let file = directory.appendingPathComponent("chrony.conf")
        try config.write(to: file, atomically: true, encoding: .utf8)
        let chronyd = try Spawned([
            "/usr/sbin/ip", "netns", "exec", b, "/usr/sbin/chronyd", "-d", "-x", "-u", "root", "-f", file.path,
        ])
        // Ready when it answers a request: ask from A until it does.
        let server = SocketAddress(IPAddress(addressB)!, port: 123)
        let socket = try insideNamespace(a) { try UDPSocket(family: .inet) }
        try waitUntil("chronyd answering", timeout: .seconds(10)) {
            try socket.send(SNTPRequest().packet.encoded, to: server)
            return try socket.receive(timeout: .milliseconds(100)) != nil
        }
        return chronyd
    }

    /// A socket in B bound to `address`:123, standing in for an NTP server that misbehaves.
    func fakeServer(on address: String) throws -> UDPSocket {
        try insideNamespace(b) { () throws -> UDPSocket in
            let socket = try UDPSocket(family: .inet)
            try socket.bind(to: SocketAddress(IPAddress(address)!, port: 123))
            return socket
        }
    }
}

/// A server reply to `request` as a well-behaved stratum-2 server would send it, with this host's time.
private func reply(to request: NTPPacket) -> NTPPacket {
    let now = NTPTimestamp(WallClockTime.now())
    return NTPPacket(
        mode: .server,
        stratum: 2,
        rootDispersion: 0x100,
        referenceID: 0xC612_0001,
        originTimestamp: request.transmitTimestamp,
        receiveTimestamp: now,
        transmitTimestamp: now
    )
}

// `udp ntp` against chronyd, and against fake servers that lie, in a namespace pair the test creates.
@Suite("udp ntp", .enabled(if: NamespacePair.available, "ip netns needs root and iproute2"))
struct NTPCommandTests {
    @Test(
        "agrees with chronyd's clock, which is this host's, and reports its stratum and refid",
        .enabled(if: chronyInstalled, "needs chrony (apt-get install chrony)"),
        arguments: ["ipv4", "ipv6"]
    )
    func agreesWithChrony(family: String) throws {
        let hosts = try NamespacePair()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chrony-\(hosts.b)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let chronyd = try hosts.startChrony(in: directory)
        defer {
            chronyd.signal(SIGTERM)
            #expect(chronyd.wait(timeout: .seconds(5)).status == 0, "chronyd did not stop on SIGTERM")
        }
        let server = family == "ipv4" ? hosts.addressB : hosts.addressesOfB6[0]
        let ntp = try hosts.udp(in: hosts.a, "ntp", server, "--interval", "0.1", "--json")
        ntp.closeStandardInput()
        let result = ntp.wait(timeout: .seconds(15))
        #expect(result.status == 0, "\(result)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("sample ") && $0.contains("offset") }.count == 4, "\(result.stdout)")
        let summary = try #require(lines.first { $0.hasPrefix("offset ") })
        #expect(summary.contains("stratum 10, refid 127.127.1.1, leap none (4 samples,"), "\(summary)")
        let json = try #require(lines.last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let offset = try #require(object["offset_s"] as? Double)
        // Both ends read this host's clock: what is left is the measurement's error.
        #expect(abs(offset) < 0.001, "offset \(offset) s")
        #expect((object["delay_s"] as? Double).map { $0 >= 0 && $0 < 0.01 } == true)
        #expect(object["stratum"] as? Int == 10 && object["refid"] as? String == "127.127.1.1")
        #expect(object["leap"] as? String == "none" && object["samples"] as? Int == 4)
        #expect(["kernel", "user"].contains(object["timestamps"] as? String ?? ""))
        #expect(object["ignored"] as? Int == 0)
    }

    @Test("a reply with the wrong origin, or from another address, is ignored and counted; a race is never won")
    func spoofedRepliesAreRefused() throws {
        let hosts = try NamespacePair()
        try hosts.addSecondaryAddresses()
        let real = try hosts.fakeServer(on: hosts.addressB)
        let spoofer = try hosts.fakeServer(on: hosts.addressesOfB[1])
        let ntp = try hosts.udp(in: hosts.a, "ntp", hosts.addressB, "--count", "3", "--interval", "0.05", "--json")
        ntp.closeStandardInput()
        // Request 1: a reply with another origin. Request 2: the right reply, but from another address.
        // Request 3: both forgeries race ahead of the right reply, which still counts.
        for index in 0..<3 {
            let request = try #require(try real.receive(timeout: .seconds(5)), "request \(index + 1) never came")
            let asked = try #require(NTPPacket(decoding: request.payload))
            var wrongOrigin = reply(to: asked)
            wrongOrigin.originTimestamp = NTPTimestamp(rawValue: asked.transmitTimestamp.rawValue &+ 1)
            if index != 1 { try real.send(wrongOrigin.encoded, to: request.sender) }
            if index != 0 { try spoofer.send(reply(to: asked).encoded, to: request.sender) }
            if index == 2 { try real.send(reply(to: asked).encoded, to: request.sender) }
        }
        let result = ntp.wait(timeout: .seconds(10))
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("sample 1: no valid reply in time"))
        #expect(result.stdout.contains("sample 2: no valid reply in time"))
        #expect(result.stdout.contains("sample 3: offset "))
        #expect(result.stdout.contains("ignored 4 replies: 2 not from \(hosts.addressB):123, 2 wrong origin timestamp"))
        #expect(result.stdout.contains(#""samples": 1"#) && result.stdout.contains(#""ignored": 4"#))
    }

    @Test("a kiss-o'-death: RATE backs off, DENY stops at once, and with no sample the exit is 1 naming the code")
    func kissOfDeath() throws {
        let hosts = try NamespacePair()
        let server = try hosts.fakeServer(on: hosts.addressB)
        let ntp = try hosts.udp(in: hosts.a, "ntp", hosts.addressB, "--count", "5", "--interval", "0.05")
        ntp.closeStandardInput()
        var arrivals: [ContinuousClock.Instant] = []
        for code in [KissCode.rate, KissCode.deny] {
            let request = try #require(try server.receive(timeout: .seconds(5)))
            arrivals.append(.now)
            var kiss = reply(to: try #require(NTPPacket(decoding: request.payload)))
            kiss.stratum = 0
            kiss.referenceID = code.referenceID
            try server.send(kiss.encoded, to: request.sender)
        }
        let result = ntp.wait(timeout: .seconds(10))
        #expect(result.stdout.contains("sample 1: kiss-o'-death RATE: backing off: one request every 2 s"))
        #expect(result.stdout.contains("sample 2: kiss-o'-death DENY: stopping"))
        // After RATE the next request waited the longer interval; after DENY none came.
        #expect(arrivals[1] - arrivals[0] > .milliseconds(1_500))
        #expect(try server.receive(timeout: .milliseconds(300)) == nil)
        #expect(result.status == 1)
        #expect(
            result.stderr == "udp: no valid reply from \(hosts.addressB):123: kiss-o'-death DENY\n",
            "\(result.stderr)"
        )
    }

    @Test("nothing listening: the port unreachable is named, and the exit is 1")
    func portUnreachable() throws {
        let hosts = try NamespacePair()
        let result = try hosts.udp(in: hosts.a, "ntp", "\(hosts.addressB):124", "--count", "1").waitClosingInput()
        #expect(result.status == 1)
        #expect(result.stdout.contains("sample 1: From \(hosts.addressB): port unreachable"), "\(result.stdout)")
        #expect(result.stderr.contains("port unreachable (from \(hosts.addressB))"), "\(result.stderr)")
    }
}

extension Spawned {
    /// Closes stdin and waits for the exit.
    func waitClosingInput(timeout: Duration = .seconds(10)) -> (status: CInt, stdout: String, stderr: String) {
        closeStandardInput()
        return wait(timeout: timeout)
    }
}
