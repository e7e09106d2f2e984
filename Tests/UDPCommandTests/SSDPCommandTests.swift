import Foundation
import NamespaceTesting
import Testing
import UDP

#if canImport(Glibc)
import Glibc
#endif

/// A UPnP MediaServer root device advertised by async-upnp-client's SSDP responder and announcer (the library
/// Home Assistant finds devices with), bound to argv[1] (IPv6 with interface index argv[2]), until its stdin
/// closes; then it says byebye.
private let upnpResponder = #"""
    import asyncio, sys
    import xml.etree.ElementTree as ET
    from async_upnp_client.const import DeviceInfo
    from async_upnp_client.server import (NopRequester, SsdpAdvertisementAnnouncer, SsdpSearchResponder,
                                          UpnpServerDevice)

    class MediaServer(UpnpServerDevice):
        DEVICE_DEFINITION = DeviceInfo(
            device_type="urn:schemas-upnp-org:device:MediaServer:1", friendly_name="Test Media Server",
            manufacturer="swift-udp tests", manufacturer_url=None, model_description=None, model_name="test",
            model_number=None, model_url=None, serial_number=None, udn="uuid:5d0c1a2b-0000-4000-8000-000000000001",
            upc=None, presentation_url=None, url="/device.xml", icons=[], xml=ET.Element("server_device"))
        EMBEDDED_DEVICES = []
        SERVICES = []

    async def main():
        address = sys.argv[1]
        source = (address, 0, 0, int(sys.argv[2])) if ":" in address else (address, 0)
        host = f"[{address}]" if ":" in address else address
        device = MediaServer(NopRequester(), f"http://{host}:8200")
        responder = SsdpSearchResponder(device, source=source)
        announcer = SsdpAdvertisementAnnouncer(device, source=source)
        await responder.async_start()
        await announcer.async_start()
        print("started", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await announcer.async_stop()
        await responder.async_stop()

    asyncio.run(main())
    """#

private let mediaServer = "urn:schemas-upnp-org:device:MediaServer:1"

extension NamespacePair {
    /// `interface`'s index inside namespace `ns`: the scope an IPv6 SSDP socket of async-upnp-client needs.
    func interfaceIndex(_ interface: String, in ns: String) throws -> String {
        try Self.output(["/usr/sbin/ip", "netns", "exec", ns, "cat", "/sys/class/net/\(interface)/ifindex"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// async-upnp-client's `upnp-client search` in namespace `ns`, from `address`, for `target`, for 3 seconds.
    func upnpSearch(in ns: String, from address: String, scope: String, target: String) throws -> Spawned {
        let bind = address.contains(":") ? "\(address)%\(scope)" : address
        let search = try Spawned([
            "/usr/sbin/ip", "netns", "exec", ns, "/usr/bin/env", "python3", "-m", "async_upnp_client.cli",
            "--timeout", "3", "search", "--bind", bind, "--search_target", target,
        ])
        search.closeStandardInput()
        return search
    }
}

// SSDP against async-upnp-client both ways, and against itself, in a namespace pair the test creates: multicast
// never leaves the two namespaces.
@Suite(
    "SSDP: udp discover --ssdp, udp announce --ssdp",
    .enabled(if: NamespacePair.available, "ip netns needs root and iproute2"),
    .enabled(if: upnpClientInstalled, "needs async-upnp-client (pip install async-upnp-client)")
)
struct SSDPCommandTests {
    @Test("finds what async-upnp-client advertises, and sees it say byebye", arguments: ["ipv4", "ipv6"])
    func findsAsyncUPnPClient(family: String) throws {
        let hosts = try NamespacePair()
        let address = family == "ipv4" ? hosts.addressB : hosts.addressesOfB6[0]
        let responder = try Spawned([
            "/usr/sbin/ip", "netns", "exec", hosts.b, "/usr/bin/env", "python3", "-c", upnpResponder, address,
            try hosts.interfaceIndex(hosts.vethB, in: hosts.b),
        ])
        #expect(responder.readLine(timeout: .seconds(15)) == "started")
        let discover = try hosts.udp(
            in: hosts.a,
            "discover",
            "--ssdp",
            "--st",
            mediaServer,
            family == "ipv4" ? "-4" : "-6",
            "--json",
            "--watch"
        )
        let new = try #require(discover.readLine(timeout: .seconds(10)))
        #expect(new.hasPrefix(#"{"protocol": "ssdp", "event": "new", "interface": "\#(hosts.vethA)""#), "\(new)")
        #expect(new.contains(#""family": "\#(family)""#))
        #expect(new.contains(#""usn": "uuid:5d0c1a2b-0000-4000-8000-000000000001::\#(mediaServer)""#), "\(new)")
        #expect(new.contains(#""st": "\#(mediaServer)""#))
        let host = family == "ipv4" ? address : "[\(address)]"
        #expect(new.contains(#""location": "http://\#(host):8200/device.xml""#), "\(new)")
        #expect(new.contains(#""server": "async-upnp-client/"#))
        // One event per device however often it answers and announces: the next line is its byebye.
        responder.closeStandardInput()
        let removed = try #require(discover.readLine(timeout: .seconds(10)))
        #expect(removed.contains(#""event": "removed""#) && removed.contains(mediaServer), "\(removed)")
        discover.signal(SIGINT)
        #expect(discover.wait(timeout: .seconds(5)).status == 0)
    }

    @Test(
        "async-upnp-client finds udp announce --ssdp, under an older version of its type too",
        arguments: ["ipv4", "ipv6"]
    )
    func asyncUPnPClientFindsIt(family: String) throws {
        let hosts = try NamespacePair()
        let location = "http://\(hosts.addressA):8200/rootDesc.xml"
        let announce = try hosts.udp(
            in: hosts.a,
            "announce",
            "--ssdp",
            "--st",
            "urn:schemas-upnp-org:device:MediaServer:2",
            "--location",
            location,
            "--uuid",
            "0000aaaa-1111-4222-8333-444455556666",
            family == "ipv4" ? "-4" : "-6"
        )
        let announced = try #require(announce.readLine(timeout: .seconds(10)))
        #expect(
            announced.hasPrefix("announced on \(hosts.vethA) \(family == "ipv4" ? "IPv4" : "IPv6"): ssdp"),
            "\(announced)"
        )
        let address = family == "ipv4" ? hosts.addressB : hosts.addressesOfB6[0]
        let search = try hosts.upnpSearch(
            in: hosts.b,
            from: address,
            scope: try hosts.interfaceIndex(hosts.vethB, in: hosts.b),
            target: mediaServer
        )
        let result = search.wait(timeout: .seconds(15))
        #expect(result.status == 0, "\(result.stderr)")
        let answers = result.stdout.split(separator: "\n")
        #expect(answers.count == 1, "\(result.stdout)")
        let answer = String(answers.first ?? "")
        #expect(answer.contains(#""ST": "\#(mediaServer)""#), "\(answer)")
        #expect(
            answer.contains(
                #""USN": "uuid:0000aaaa-1111-4222-8333-444455556666::urn:schemas-upnp-org:device:MediaServer:2""#
            )
        )
        #expect(answer.contains(#""LOCATION": "\#(location)""#) && answer.contains(#""CACHE-CONTROL": "max-age=1800""#))
        #expect(answer.contains(#""SERVER": "Linux UPnP/1.1 swift-udp/"#))
        announce.signal(SIGINT)
        #expect(announce.wait(timeout: .seconds(5)).status == 0)
    }

    @Test("udp finds udp: discover --all sees both protocols, and the byebye when announce stops")
    func findsItself() throws {
        let hosts = try NamespacePair()
        let announce = try hosts.udp(
            in: hosts.a,
            "announce",
            "Both",
            "_http._tcp",
            "8080",
            "--ssdp",
            "--st",
            mediaServer,
            "--location",
            "http://\(hosts.addressA)/d.xml",
            "-4"
        )
        var announced: [String] = []
        while announced.count < 2, let line = announce.readLine(timeout: .seconds(10)) { announced.append(line) }
        #expect(
            announced.contains { $0.contains(": ssdp uuid:") } && announced.contains { $0.contains("Both._http._tcp") }
        )
        let discover = try hosts.udp(in: hosts.b, "discover", "--all", "-4", "--json", "--watch")
        var seen: Set<String> = []
        while seen.count < 2, let line = discover.readLine(timeout: .seconds(10)) {
            if line.contains(#""protocol": "ssdp""#) && line.contains(#""st": "\#(mediaServer)""#) {
                seen.insert("ssdp")
            }
            if line.contains(#""protocol": "mdns""#) && line.contains(#""event": "resolved""#) { seen.insert("mdns") }
        }
        #expect(seen == ["ssdp", "mdns"])
        announce.signal(SIGINT)
        #expect(announce.wait(timeout: .seconds(5)).status == 0)
        var removed: Set<String> = []
        while removed.count < 2, let line = discover.readLine(timeout: .seconds(10)) {
            guard line.contains(#""event": "removed""#) else { continue }
            if line.contains(#""st": "\#(mediaServer)""#) { removed.insert("ssdp") }
            if line.contains(#""protocol": "mdns""#) { removed.insert("mdns") }
        }
        #expect(removed == ["ssdp", "mdns"])
        discover.signal(SIGINT)
        #expect(discover.wait(timeout: .seconds(5)).status == 0)
    }

    @Test("a search from off the link gets no answer; one from the link does")
    func offLinkSearchIsNotAnswered() throws {
        let hosts = try NamespacePair()
        let announce = try hosts.udp(
            in: hosts.a,
            "announce",
            "--ssdp",
            "--st",
            "upnp:rootdevice",
            "--location",
            "http://\(hosts.addressA)/d.xml",
            "-4"
        )
        #expect(announce.readLine(timeout: .seconds(10)) != nil)
        // B gets an address on another network, as a spoofer or a host behind a router would have.
        try NamespacePair.ip("-n", hosts.b, "addr", "add", "198.18.250.9/32", "dev", hosts.vethB)
        let search = Array(
            "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n"
                .utf8
        )
        func answers(from source: String) throws -> Int {
            try insideNamespace(hosts.b) { () throws -> Int in
                let socket = try UDPSocket(family: .inet)
                try socket.bind(to: SocketAddress(IPAddress(source)!, port: 0))
                try socket.setMulticastInterface(.index(try NetworkInterface(named: hosts.vethB).index))
                try socket.send(search, to: SocketAddress(IPAddress("239.255.255.250")!, port: 1900))
                // Answers come within MX (1 s): wait a little longer for the last.
                var count = 0
                while try socket.receive(timeout: .milliseconds(1_500)) != nil { count += 1 }
                return count
            }
        }
        #expect(try answers(from: "198.18.250.9") == 0)
        #expect(try answers(from: hosts.addressB) == 2)  // upnp:rootdevice and the device's uuid:
        announce.signal(SIGINT)
        #expect(announce.wait(timeout: .seconds(5)).status == 0)
    }

    @Test("a flood of garbage and forged devices leaves discover bounded and still finding the real one")
    func hostileLink() throws {
        let hosts = try NamespacePair()
        let discover = try hosts.udp(in: hosts.a, "discover", "--ssdp", "-4", "--json", "--watch")
        let forger = try insideNamespace(hosts.b) { () throws -> UDPSocket in
            let socket = try UDPSocket(family: .inet)
            try socket.bind(to: .any(.inet, port: 0))
            try socket.setMulticastInterface(.index(try NetworkInterface(named: hosts.vethB).index))
            return socket
        }
        let group = SocketAddress(IPAddress("239.255.255.250")!, port: 1900)
        for index in 0..<2_000 { try forger.send((0..<200).map { UInt8(truncatingIfNeeded: $0 &* index) }, to: group) }
        for index in 0..<20_000 {
            let notify =
                "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n"
                + "USN: uuid:forged-\(index)::upnp:rootdevice\r\nLOCATION: http://198.18.250.9/\(index).xml\r\n"
                + "CACHE-CONTROL: max-age=1800\r\n\r\n"
            try forger.send(Array(notify.utf8), to: group)
            // Its output is read as it comes, or a full pipe would stop it rather than the flood.
            if index % 100 == 0 { while discover.readLine(timeout: .zero) != nil {} }
        }
        while discover.readLine(timeout: .zero) != nil {}
        let announce = try hosts.udp(
            in: hosts.b,
            "announce",
            "--ssdp",
            "--st",
            mediaServer,
            "--location",
            "http://\(hosts.addressB)/real.xml",
            "-4"
        )
        var foundReal = false
        while !foundReal, let line = discover.readLine(timeout: .seconds(15)) {
            foundReal = line.contains(#""event": "new""#) && line.contains("/real.xml")
        }
        #expect(foundReal, "the real device was not found after the flood")
        let status = try String(contentsOfFile: "/proc/\(discover.pid)/status", encoding: .utf8)
        let residentKiB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
        #expect((residentKiB ?? .max) < 100_000, "resident memory \(String(describing: residentKiB)) KiB")
        announce.signal(SIGINT)
        discover.signal(SIGINT)
        #expect(discover.wait(timeout: .seconds(5)).status == 0)
        #expect(announce.wait(timeout: .seconds(5)).status == 0)
    }
}
