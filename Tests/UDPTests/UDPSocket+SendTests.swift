import Testing

@testable import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite struct UDPSocketSendTests {
    @Test(arguments: [(AddressFamily.inet, 65_507), (.inet6, 65_527)])
    func oversizedPayloadIsRefusedBeforeTheKernel(_ family: AddressFamily, _ maximum: Int) throws {
        let socket = try loopbackSocket(family)
        let target = SocketAddress(family.loopback, port: try unusedPort(family))
        let error = #expect(throws: UDPError.self) {
            try socket.send([UInt8](repeating: 0, count: maximum + 1), to: target)
        }
        #expect(error?.code == .messageTooLarge)
        #expect(error?.operation == .send)
        #expect(error?.errno == nil, "the kernel was asked")
        #expect(error?.maximumSize == maximum)
        #expect(error?.attemptedSize == maximum + 1)
        #expect(error?.address == target)
        let message = error?.description ?? ""
        #expect(message.contains("\(maximum + 1)"), "\(message)")
        #expect(message.contains("\(maximum)"), "\(message)")
        #expect(message.contains(family.description), "\(message)")
    }

    @Test(arguments: [(AddressFamily.inet, 65_507), (.inet6, 65_527)])
    func largestPayloadCrossesLoopbackWhole(_ family: AddressFamily, _ maximum: Int) throws {
        let server = try loopbackSocket(family)
        let client = try loopbackSocket(family)
        let payload = pattern(maximum, seed: 9)
        #expect(try client.send(payload, to: server.localAddress) == maximum)
        let datagram = try server.receive()
        #expect(datagram.length == maximum)
        #expect(datagram.payload == payload)
    }

    @Test func dualStackSocketUsesTheIPv4LimitForIPv4Peers() throws {
        let socket = try UDPSocket(family: .inet6)
        #expect(socket.maximumPayloadSize() == 65_527)
        #expect(socket.maximumPayloadSize(to: .loopbackV4(port: 9)) == 65_507)
        #expect(socket.maximumPayloadSize(to: SocketAddress.loopbackV4(port: 9).converted(for: .inet6)) == 65_507)
        #expect(socket.maximumPayloadSize(to: .loopbackV6(port: 9)) == 65_527)

        let error = #expect(throws: UDPError.self) {
            try socket.send([UInt8](repeating: 0, count: 65_508), to: .loopbackV4(port: 9))
        }
        #expect(error?.code == .messageTooLarge)
        #expect(error?.maximumSize == 65_507)
        #expect(error?.errno == nil)
        #expect(error?.description.contains("IPv4") == true)
    }

    @Test(arguments: [(AddressFamily.inet, 65_507), (.inet6, 65_527)])
    func connectedSendChecksTheSizeToo(_ family: AddressFamily, _ maximum: Int) throws {
        let server = try loopbackSocket(family)
        let client = try loopbackSocket(family)
        try client.connect(to: server.localAddress)
        let error = #expect(throws: UDPError.self) { try client.send([UInt8](repeating: 0, count: maximum + 1)) }
        #expect(error?.code == .messageTooLarge)
        #expect(error?.maximumSize == maximum)
        #expect(error?.errno == nil)
    }

    @Test func connectedDualStackSocketUsesItsPeersLimit() throws {
        // Connected to an IPv4 peer, an IPv6 socket can carry no more than IPv4 can.
        let server = try loopbackSocket(.inet)
        let client = try UDPSocket(family: .inet6)
        try client.connect(to: server.localAddress)
        let error = #expect(throws: UDPError.self) { try client.send([UInt8](repeating: 0, count: 65_508)) }
        #expect(error?.code == .messageTooLarge)
        #expect(error?.maximumSize == 65_507)
        #expect(error?.errno == nil)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func sendsAnyCollectionOfBytes(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let client = try loopbackSocket(family)
        let target = try server.localAddress

        #expect(try client.send("text".utf8, to: target) == 4)
        #expect(try client.send([1, 2, 3, 4, 5][1...3], to: target) == 3)
        #expect(try client.send(repeatElement(UInt8(7), count: 6), to: target) == 6)
        #expect(try client.send((0..<4).lazy.map { UInt8($0 * 2) }, to: target) == 4)
        let raw: [UInt8] = [9, 9]
        #expect(try raw.withUnsafeBytes { buffer in try client.send(buffer, to: target) } == 2)

        let expected: [[UInt8]] = [bytes("text"), [2, 3, 4], [7, 7, 7, 7, 7, 7], [0, 2, 4, 6], [9, 9]]
        for payload in expected {
            #expect(try server.receive().payload == payload)
        }
    }

    @Test func ipv6SocketSendsToIPv4Peers() throws {
        let server = try loopbackSocket(.inet)
        let client = try UDPSocket(family: .inet6)
        try client.send(bytes("over v4"), to: server.localAddress)
        let datagram = try server.receive()
        #expect(datagram.payload == bytes("over v4"))
        #expect(datagram.sender.family == .inet)
        #expect(datagram.sender.port == (try client.localAddress.port))
    }

    @Test func unconnectedSendWithoutAddressFails() throws {
        let socket = try loopbackSocket(.inet)
        let error = #expect(throws: UDPError.self) { try socket.send(bytes("where to?")) }
        #expect(error?.errno == Errno(rawValue: EDESTADDRREQ))
        #expect(error?.operation == .send)
    }

    @Test func ipv4SocketCannotReachAnIPv6Peer() throws {
        let socket = try loopbackSocket(.inet)
        let error = #expect(throws: UDPError.self) { try socket.send(bytes("x"), to: .loopbackV6(port: 9)) }
        #expect(error?.operation == .send)
        #expect(error?.address == .loopbackV6(port: 9))
        #expect(error?.errno != nil)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func unconnectedSendToNobodyReportsNothing(_ family: AddressFamily) throws {
        // Only a connected socket hears about ICMP port unreachable; an unconnected one keeps going.
        let client = try loopbackSocket(family)
        let nobody = SocketAddress(family.loopback, port: try unusedPort(family))
        try client.send(bytes("1"), to: nobody)
        #expect(try client.send(bytes("2"), to: nobody) == 1)
        #expect(try client.takePendingError() == nil)
    }
}
