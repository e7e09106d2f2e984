import NamespaceTesting
import Testing

@testable import UDP

// Sends from a chosen source address (`IP_PKTINFO` / `IPV6_PKTINFO`): on loopback, where 127.0.0.2 is as much
// this host's as 127.0.0.1, and between namespaces where B has two addresses of each family and a link-local one.
@Suite struct UDPSocketSourceAddressTests {
    /// How a sender reaches a receiver on 127.0.0.1: from an IPv4 socket, or from a dual-stack IPv6 socket
    /// (v4-mapped), naming the source plainly or v4-mapped.
    enum Sender: String, CaseIterable, Sendable, CustomStringConvertible {
        case ipv4, dualStack, dualStackMappedSource
        var description: String { rawValue }
    }

    @Test(arguments: Sender.allCases)
    func sendsFromASecondLoopbackAddress(_ sender: Sender) throws {
        let receiver = try loopbackSocket(.inet)
        let socket = try UDPSocket(family: sender == .ipv4 ? .inet : .inet6)
        let second = IPv4Address(127, 0, 0, 2)
        let source: IPAddress = sender == .dualStackMappedSource ? .v6(IPv6Address(v4Mapped: second)) : .v4(second)
        try socket.send(bytes("plain"), to: receiver.localAddress)
        #expect(try receiver.receive().sender.ip == .v4(.loopback), "the kernel's own choice")
        #expect(try socket.send(bytes("chosen"), to: receiver.localAddress, from: source) == 6)
        let datagram = try receiver.receive()
        #expect(datagram.payload == bytes("chosen"))
        #expect(datagram.sender.unmapped.ip == .v4(second))
        #expect(datagram.sender.port == (try socket.localAddress.port), "the same socket, only another address")
    }

    @Test func sendsFromIPv6Loopback() throws {
        let receiver = try loopbackSocket(.inet6)
        let socket = try UDPSocket(family: .inet6)
        try socket.send(bytes("v6"), to: receiver.localAddress, from: .v6(.loopback), interfaceIndex: 0)
        #expect(try receiver.receive().sender.ip == .v6(.loopback))
    }

    @Test func aSourceOfTheOtherFamilyIsRefusedBeforeTheKernel() throws {
        let receiver4 = try loopbackSocket(.inet)
        let receiver6 = try loopbackSocket(.inet6)
        let socket = try UDPSocket(family: .inet6)
        let toIPv4 = #expect(throws: UDPError.self) {
            try socket.send(bytes("x"), to: receiver4.localAddress, from: .v6(.loopback))
        }
        #expect(toIPv4?.code == .invalidArgument)
        #expect(toIPv4?.errno == nil)
        #expect(toIPv4?.description.contains("reached over IPv4") == true, "\(String(describing: toIPv4))")
        let toIPv6 = #expect(throws: UDPError.self) {
            try socket.send(bytes("x"), to: receiver6.localAddress, from: .v4(.loopback))
        }
        #expect(toIPv6?.code == .invalidArgument)
        #expect(toIPv6?.address == (try receiver6.localAddress))
    }

    @Test func aSourceThatIsNotLocalIsAnInvalidArgument() throws {
        let receiver = try loopbackSocket(.inet)
        let socket = try UDPSocket(family: .inet)
        let foreign = IPAddress.v4(IPv4Address(198, 51, 100, 7))  // TEST-NET-2: no address of this host
        let error = #expect(throws: UDPError.self) {
            try socket.send(bytes("x"), to: receiver.localAddress, from: foreign)
        }
        // Linux says ENETUNREACH for an IPv4 source that is not the host's (EINVAL for IPv6); either way the
        // error names the cause.
        #expect(error?.code == .invalidArgument)
        #expect(error?.errno != nil)
        #expect(error?.address == (try receiver.localAddress))
        #expect(error?.description.contains("not an address of this host") == true, "\(String(describing: error))")
    }

    @Test func theSizeCheckComesFirst() throws {
        let receiver = try loopbackSocket(.inet)
        let socket = try UDPSocket(family: .inet)
        let error = #expect(throws: UDPError.self) {
            try socket.send([UInt8](repeating: 0, count: 65_508), to: receiver.localAddress, from: .v4(.loopback))
        }
        #expect(error?.code == .messageTooLarge)
        #expect(error?.maximumSize == 65_507)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func aReplyGoesToTheSenderFromTheDestination(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let client = try loopbackSocket(family)
        try client.send(bytes("no packet info"), to: server.localAddress)
        let plain = try server.receive().info
        #expect(plain.replySource == nil)
        try server.send(bytes("plain reply"), replyingTo: plain)
        #expect(try client.receive().payload == bytes("plain reply"))

        try server.setReceivePacketInfo(true)
        try client.send(bytes("with packet info"), to: server.localAddress)
        let asked = try server.receive().info
        #expect(asked.replySource == family.loopback)
        #expect(try server.send(bytes("reply"), replyingTo: asked) == 5)
        let reply = try client.receive()
        #expect(reply.payload == bytes("reply"))
        #expect(reply.sender == (try server.localAddress))
    }

    @Test func aDualStackSocketAnswersAnIPv4PeerFromTheIPv4AddressAsked() throws {
        let server = try UDPSocket(bindingTo: .any(.inet6))
        try server.setReceiveTimeout(receiveTimeout)
        try server.setReceivePacketInfo(true)
        let client = try loopbackSocket(.inet)
        let second = IPv4Address(127, 0, 0, 2)
        try client.send(bytes("to .2"), to: SocketAddress(second, port: try server.localAddress.port))
        let request = try server.receive().info
        #expect(request.sender.isV4Mapped)
        #expect(request.destination == .v4(second))
        #expect(request.replySource == .v4(second))
        try server.send(bytes("from .2"), replyingTo: request)
        let reply = try client.receive()
        #expect(reply.payload == bytes("from .2"))
        #expect(reply.sender.ip == .v4(second))
    }
}

/// A server in B bound to a wildcard address, and clients in A connected to each of B's addresses: a connected
/// socket drops a datagram from any other address, so only a reply from the address asked arrives.
@Suite(.enabled(if: isRoot, "ip netns needs root"), .enabled(if: ipCommand != nil, "needs the ip command"))
struct SourceAddressNamespaceTests {
    @Test(arguments: [AddressFamily.inet, .inet6])
    func repliesComeFromTheAddressAsked(_ family: AddressFamily) throws {
        try withNamespacePair(subnet: family == .inet ? 23 : 24) { pair in
            try pair.addSecondaryAddresses()
            let server = try pair.inB { try UDPSocket(bindingTo: .any(family)) }
            try server.setReceiveTimeout(receiveTimeout)
            try server.setReceivePacketInfo(true)
            let port = try server.localAddress.port
            // A dual-stack server meets its IPv4 clients as v4-mapped peers.
            var targets: [IPAddress] = [.v4(pair.v4B), .v4(pair.v4B2)]
            if family == .inet6 { targets = [.v6(pair.v6B), .v6(pair.v6B2)] + targets }
            let clients = try targets.map { target in
                UDPSocketBox(try pair.inA { try connectedClient(to: SocketAddress(target, port: port)) })
            }

            for (target, client) in zip(targets, clients) {
                try client.socket.send(bytes("to \(target)"))
                let request = try server.receive()
                #expect(request.payload == bytes("to \(target)"))
                #expect(request.info.destination == target)
                #expect(request.info.replySource == target)
                #expect(request.info.interfaceIndex == pair.indexB)
                // The control: without packet info the kernel answers from one address of the family only.
                try server.send(bytes("plain"), to: request.sender)
                try server.send(bytes("from \(target)"), replyingTo: request.info)
            }
            var plainArrived = 0
            for (target, client) in zip(targets, clients) {
                var reply = try #require(try client.socket.receive(timeout: receiveTimeout), "no reply via \(target)")
                if reply.payload == bytes("plain") {
                    plainArrived += 1
                    reply = try #require(try client.socket.receive(timeout: receiveTimeout), "via \(target)")
                }
                #expect(reply.payload == bytes("from \(target)"))
                #expect(reply.sender.unmapped.ip == target)
            }
            // Two addresses per family, and the kernel picks one of them for every plain reply.
            #expect(plainArrived == targets.count / 2, "a connected client drops a reply from the other address")
        }
    }

    @Test func aLinkLocalReplyCarriesItsInterface() throws {
        try withNamespacePair(subnet: 25) { pair in
            try pair.addSecondaryAddresses()
            let server = try pair.inB { try UDPSocket(bindingTo: .any(.inet6)) }
            try server.setReceiveTimeout(receiveTimeout)
            try server.setReceivePacketInfo(true)
            let port = try server.localAddress.port
            let target = SocketAddress(pair.linkLocalB, port: port, scopeID: pair.indexA)
            let client = try pair.inA { try connectedClient(to: target) }

            try client.send(bytes("hello"))
            let request = try server.receive().info
            #expect(request.destination == .v6(pair.linkLocalB))
            #expect(request.replySource == .v6(pair.linkLocalB))
            #expect(request.interfaceIndex == pair.indexB)
            try server.send(bytes("hello back"), replyingTo: request)
            let reply = try #require(try client.receive(timeout: receiveTimeout))
            #expect(reply.payload == bytes("hello back"))
            #expect(reply.sender.ip == .v6(pair.linkLocalB))

            // To a global address, a link-local source names its interface, or the kernel refuses it.
            let global = try pair.inA { try UDPSocket(bindingTo: SocketAddress(pair.v6A, port: 0)) }
            try global.setReceiveTimeout(receiveTimeout)
            let error = #expect(throws: UDPError.self) {
                try server.send(bytes("no interface"), to: global.localAddress, from: .v6(pair.linkLocalB))
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.description.contains("without its interface") == true, "\(String(describing: error))")
            try server.send(
                bytes("with interface"),
                to: global.localAddress,
                from: .v6(pair.linkLocalB),
                interfaceIndex: pair.indexB
            )
            let datagram = try global.receive()
            #expect(datagram.payload == bytes("with interface"))
            #expect(datagram.sender.ip == .v6(pair.linkLocalB))
        }
    }
}

/// A client socket connected to `server`, with a receive timeout: it accepts datagrams from that address only.
func connectedClient(to server: SocketAddress) throws -> UDPSocket {
    let socket = try UDPSocket(family: server.family)
    try socket.setReceiveTimeout(receiveTimeout)
    try socket.connect(to: server)
    return socket
}
