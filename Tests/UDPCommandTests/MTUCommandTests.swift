import Foundation
import NamespaceTesting
import Testing
import UDP

#if canImport(Glibc)
import Glibc
#endif

/// Whether `nft` is installed, for the black-hole test (the router's ICMP dropped by a firewall).
private let nftCommand = ["/usr/sbin/nft", "/sbin/nft"].first { FileManager.default.isExecutableFile(atPath: $0) }

// `udp mtu` through the client-router-server chain, whose far link has an MTU of 1400: 1372 bytes of UDP payload
// over IPv4, 1352 over IPv6.
@Suite("udp mtu", .enabled(if: canCreateNamespaces, "ip netns needs root and iproute2"))
struct MTUCommandTests {
    private func udp(in name: String, _ arguments: [String]) throws -> (status: CInt, stdout: String, stderr: String) {
        let process = try Spawned(["/usr/sbin/ip", "netns", "exec", name, udpBinary] + arguments)
        process.closeStandardInput()
        return process.wait(timeout: .seconds(30))
    }

    private func echo(in chain: NamespaceChain, _ family: NamespaceChain.Family) throws -> (Spawned, UInt16) {
        let echo = try Spawned([
            "/usr/sbin/ip", "netns", "exec", chain.server, udpBinary, "echo", "--host", family.wildcard, "--port", "0",
        ])
        return (echo, try echo.listeningPort())
    }

    @Test("finds the far link's MTU from the router's Packet Too Big", arguments: NamespaceChain.families)
    func packetTooBig(_ family: NamespaceChain.Family) throws {
        try withNamespaceChain { chain in
            let (echo, port) = try echo(in: chain, family)
            let result = try udp(
                in: chain.client,
                ["mtu", family.endpoint(family.server, port), "--json", "--timeout", "0.5"]
            )
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("bytes: too big, ptb from \(family.router) (ip mtu 1400)"))
            #expect(result.stdout.contains("\(family.pathPayload) bytes: echoed"))
            #expect(result.stdout.contains("udp payload \(family.pathPayload) bytes = ip mtu 1400 (\(family.name))"))
            let json = try lastLineJSON(result.stdout)
            #expect(json["family"] as? String == family.name)
            #expect(integer(json, "udp_payload") == family.pathPayload)
            #expect(integer(json, "ip_mtu") == 1400)
            #expect(json["ptb_from"] as? String == family.router)
            #expect(json["black_hole"] as? Bool == false)
            #expect(integer(json, "probes") == 3, "the smallest, the largest, then the size the PTB names")
            echo.signal(SIGINT)
        }
    }

    @Test(
        "finds the same size from losses alone when the router's ICMP is dropped: a black hole",
        .enabled(if: nftCommand != nil, "needs nft"),
        arguments: NamespaceChain.families
    )
    func blackHole(_ family: NamespaceChain.Family) throws {
        try withNamespaceChain { chain in
            try runIP([
                "netns", "exec", chain.router, nftCommand!,
                "add table inet hole; add chain inet hole out { type filter hook output priority 0; policy accept; }; "
                    + "add rule inet hole out icmp type destination-unreachable drop; "
                    + "add rule inet hole out icmpv6 type packet-too-big drop",
            ])
            let (echo, port) = try echo(in: chain, family)
            let result = try udp(
                in: chain.client,
                ["mtu", family.endpoint(family.server, port), "--json", "--timeout", "0.2"]
            )
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(!result.stdout.contains("ptb from"))
            #expect(result.stdout.contains("lost (try 3 of 3)"))
            let json = try lastLineJSON(result.stdout)
            #expect(integer(json, "udp_payload") == family.pathPayload)
            #expect(json["ptb_from"] is NSNull)
            #expect(json["black_hole"] as? Bool == true)
            echo.signal(SIGINT)
        }
    }

    @Test("no echo server: one line naming who refused")
    func refused() throws {
        let holder = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let port = try holder.localAddress.port
        try holder.close()
        expectOneLineError(
            try runUDP("mtu", "127.0.0.1:\(port)", "--timeout", "0.3"),
            containing: "port unreachable from 127.0.0.1: udp mtu needs an echo server there"
        )
    }

    @Test("bad ranges are refused before anything is sent")
    func badInput() throws {
        expectOneLineError(
            try runUDP("mtu", "127.0.0.1:7", "--min", "1400", "--max", "1300"),
            containing: "above --max"
        )
        expectOneLineError(try runUDP("mtu", "127.0.0.1:7", "--min", "10"), containing: "out of range")
        expectOneLineError(try runUDP("mtu", "127.0.0.1:7", "--timeout", "0"), containing: "--timeout")
    }

    @Test("on loopback the whole range fits in two probes")
    func loopback() throws {
        let server = try Spawned(loopbackServer: "echo")
        let port = try server.listeningPort()
        let result = try runUDP("mtu", "127.0.0.1:\(port)", "--max", "9000", "--json")
        #expect(result.status == 0)
        let json = try lastLineJSON(result.stdout)
        #expect(integer(json, "udp_payload") == 9000 && integer(json, "probes") == 2)
        server.signal(SIGINT)
    }
}
