import NamespaceTesting
import Testing
import UDP
import UDPTools

#if canImport(Glibc)
import Glibc
#endif

// The prober through the client-router-server chain, with the test as the echo server: before echoing each
// probe it forges, from the router, a Packet Too Big for the prober's own flow that quotes a probe never sent.
// The kernel hands it to the prober's socket (the addresses and ports match); the prober must not believe it.
@Suite(.enabled(if: canCreateNamespaces, "ip netns needs root and iproute2"))
struct PathMTUProberChainTests {
    @Test func aPacketTooBigQuotingNoProbeInFlightIsIgnored() throws {
        try withNamespaceChain { chain in
            let server = SharedUDPSocket(
                try chain.inServer {
                    try UDPSocket(bindingTo: SocketAddress(IPAddress(NamespaceChain.serverV4)!, port: 0))
                }
            )
            let client = try chain.inClient { try UDPSocket(family: .inet) }
            try client.connect(to: server.socket.localAddress)
            let clientAddress = try client.localAddress
            let serverAddress = try server.socket.localAddress
            let forger = try chain.inRouter { socket(AF_INET, Int32(SOCK_RAW.rawValue), Int32(IPPROTO_ICMP)) }
            #expect(forger >= 0)
            defer { close(forger) }

            var events: [PathMTUProber.Event] = []
            var search: PathMTUSearch?
            let echoed = try withEngine(
                { stop in
                    var echoed = 0
                    while !stop.isRequested, let probe = try? server.socket.receive(timeout: .milliseconds(200)) {
                        // A probe never sent: this one's id with another sequence number.
                        var stale = Array(probe.payload.prefix(28))
                        stale[19] &+= 100
                        forgePacketTooBig(
                            on: forger,
                            mtu: 1300,
                            client: clientAddress,
                            server: serverAddress,
                            quoting: stale
                        )
                        _ = try? server.socket.send(probe.payload, to: probe.sender)
                        echoed += 1
                    }
                    return echoed
                },
                test: {
                    try PathMTUProber.prepare(client)
                    var prober = PathMTUProber(destination: serverAddress, range: 548...1372, timeout: .seconds(2))
                    try MachineDriver(stop: try StopSignal()).run(&prober, on: client) { events.append($0) }
                    search = prober.search
                }
            )
            #expect(search?.result?.udpPayload == 1372, "the forged 1300 changed nothing")
            #expect(search?.result?.ptbFrom == nil)
            #expect(echoed == 2)
            let ignored = events.compactMap { event -> DeliveryError? in
                if case .ignored(let error) = event { return error } else { return nil }
            }
            #expect(ignored.count == 2, "\(events)")
            #expect(ignored.allSatisfy { $0.kind == .packetTooBig(mtu: 1300) })
            #expect(ignored.allSatisfy { $0.offender == IPAddress(NamespaceChain.routerNearV4) })
        }
    }
}

/// Sends, on raw ICMP socket `forger`, an ICMP "fragmentation needed" with `mtu` to the client of the flow
/// `client` → `server`, quoting a UDP datagram of that flow whose payload starts with `quoted`.
private func forgePacketTooBig(
    on forger: CInt,
    mtu: UInt16,
    client: SocketAddress,
    server: SocketAddress,
    quoting quoted: [UInt8]
) {
    guard case .v4(let from) = client, case .v4(let to) = server else { return }
    func bigEndian(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    let udpLength = 8 + 1372
    // The quoted IPv4 header (DF set, protocol UDP), then the UDP header, then the start of the payload.
    var message: [UInt8] = [3, 4, 0, 0, 0, 0] + bigEndian(Int(mtu))
    message += [0x45, 0] + bigEndian(20 + udpLength) + [0, 0, 0x40, 0, 64, 17, 0, 0] + from.ip.bytes + to.ip.bytes
    message += bigEndian(Int(from.port)) + bigEndian(Int(to.port)) + bigEndian(udpLength) + [0, 0]
    message += quoted
    // The ICMP checksum: the one's complement of the one's-complement sum of the message's 16-bit words.
    var sum = 0
    for index in stride(from: 0, to: message.count, by: 2) {
        sum += Int(message[index]) << 8 + (index + 1 < message.count ? Int(message[index + 1]) : 0)
    }
    while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
    message.replaceSubrange(2..<4, with: bigEndian(~sum & 0xFFFF))
    var destination = sockaddr_in()
    destination.sin_family = sa_family_t(AF_INET)
    destination.sin_addr.s_addr = from.ip.value.bigEndian
    let sent = withUnsafePointer(to: &destination) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(forger, message, message.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    #expect(sent == message.count, "the forged ICMP message went out")
}
