import NamespaceTesting
import Testing

@testable import UDP

// Broadcast, multicast membership and a real path MTU, between two network namespaces joined by a veth
// pair that each test creates and deletes (TestSupport's `withNamespacePair`). Nothing here touches the root
// namespace's interfaces: the sockets are created inside the namespaces and stay there.
@Suite(.enabled(if: isRoot, "ip netns needs root"), .enabled(if: ipCommand != nil, "needs the ip command"))
struct NamespaceTests {
    /// How a receiver names the interface it joins on.
    enum JoinBy: String, CaseIterable, Sendable, CustomStringConvertible {
        case index, address
        var description: String { rawValue }
    }

    @Test func broadcastNeedsPermissionAndReachesTheLink() throws {
        try withNamespacePair(subnet: 10) { pair in
            let receiver = try pair.inB { try UDPSocket(bindingTo: .any(.inet)) }
            try receiver.setReceiveTimeout(receiveTimeout)
            try receiver.setReceivePacketInfo(true)
            let port = try receiver.localAddress.port
            let sender = try pair.inA { try UDPSocket(bindingTo: SocketAddress(pair.v4A, port: 0)) }
            let directed = SocketAddress(pair.v4Broadcast, port: port)
            let limited = SocketAddress(IPv4Address.broadcast, port: port)

            for target in [directed, limited] {
                let error = #expect(throws: UDPError.self) { try sender.send(bytes("not allowed"), to: target) }
                #expect(error?.errno == .permissionDenied)
                #expect(error?.address == target)
                #expect(error?.description.contains("SO_BROADCAST") == true, "\(String(describing: error))")
            }

            try sender.setBroadcast(true)
            for target in [directed, limited] {
                try sender.send(bytes("to everyone"), to: target)
                let datagram = try receiver.receive()
                #expect(datagram.payload == bytes("to everyone"))
                #expect(datagram.sender == (try sender.localAddress))
                #expect(datagram.info.destination == target.ip, "packet info tells broadcast from unicast")
                #expect(datagram.info.interfaceIndex == pair.indexB)
                #expect(datagram.info.replySource == .v4(pair.v4B), "a reply comes from B's own address")
            }
        }
    }

    @Test(arguments: JoinBy.allCases)
    func ipv4MulticastReachesMembersOnly(_ joinBy: JoinBy) throws {
        try withNamespacePair(subnet: joinBy == .index ? 11 : 12) { pair in
            let group = IPAddress.v4(IPv4Address(239, 1, 2, 3))
            let interface: MulticastInterface = joinBy == .index ? .index(pair.indexB) : .address(pair.v4B)
            try checkMulticast(pair, group: group, joinOn: interface, sendFrom: SocketAddress(pair.v4A, port: 0))
        }
    }

    @Test(arguments: ["ff15::1234", "ff02::1234"])
    func ipv6MulticastReachesMembersOnly(_ groupText: String) throws {
        let group = try #require(IPv6Address(groupText))
        try withNamespacePair(subnet: group.isLinkLocalMulticast ? 13 : 14) { pair in
            try checkMulticast(
                pair,
                group: .v6(group),
                joinOn: .index(pair.indexB),
                sendFrom: SocketAddress(pair.v6A, port: 0)
            )
        }
    }

    /// A member hears the group; a socket on the same port that did not join hears it too by Linux's default,
    /// and does not once `multicastAll` is off; after leaving, the member hears nothing.
    private func checkMulticast(
        _ pair: NamespacePair,
        group: IPAddress,
        joinOn interface: MulticastInterface,
        sendFrom source: SocketAddress
    ) throws {
        let family = group.family
        let member = try pair.inB { try UDPSocket(bindingTo: .any(family), reuseAddress: true) }
        let port = try member.localAddress.port
        let bystander = try pair.inB { try UDPSocket(bindingTo: .any(family, port: port), reuseAddress: true) }
        let deaf = try pair.inB { try UDPSocket(bindingTo: .any(family, port: port), reuseAddress: true) }
        try deaf.setMulticastAll(false)
        try member.setReceiveTimeout(receiveTimeout)
        try bystander.setReceiveTimeout(receiveTimeout)
        try member.joinMulticastGroup(group, interface: interface)
        let again = #expect(throws: UDPError.self) { try member.joinMulticastGroup(group, interface: interface) }
        #expect(again?.errno == .addressInUse, "joining twice")
        #expect(again?.operation == .joinGroup)

        let sender = try pair.inA { try UDPSocket(bindingTo: source) }
        try sender.setMulticastInterface(.index(pair.indexA))
        var target = SocketAddress(group, port: port)
        if case .v6(let v6) = group, v6.isLinkLocalMulticast {
            target = SocketAddress(v6, port: port, scopeID: pair.indexA)
        }
        try sender.send(bytes("to the group"), to: target)

        let datagram = try member.receive()
        #expect(datagram.payload == bytes("to the group"))
        #expect(datagram.sender == (try sender.localAddress))
        #expect(try bystander.receive().payload == bytes("to the group"), "Linux's IP_MULTICAST_ALL default")
        // The kernel hands a multicast datagram to every socket on the port in one pass, so once the bystander
        // has it, the deaf socket's share (none) is settled; the window only adds a margin.
        #expect(try !deaf.waitUntilReadable(timeout: silenceWindow), "multicastAll off, not a member")

        try member.leaveMulticastGroup(group, interface: interface)
        try sender.send(bytes("after leaving"), to: target)
        // A unicast datagram sent next crosses the same link after it: once that one is in, the group datagram
        // has been delivered or dropped.
        let witness = try pair.inB { try UDPSocket(bindingTo: .any(family)) }
        try witness.setReceiveTimeout(receiveTimeout)
        let witnessAddress = SocketAddress(
            family == .inet ? .v4(pair.v4B) : .v6(pair.v6B),
            port: try witness.localAddress.port
        )
        try sender.send(bytes("witness"), to: witnessAddress)
        #expect(try witness.receive().payload == bytes("witness"))
        #expect(try !member.waitUntilReadable(timeout: silenceWindow), "still a member after leaving")
        #expect(try !bystander.waitUntilReadable(timeout: .zero))
        #expect(try !deaf.waitUntilReadable(timeout: .zero))
    }

    enum SourceJoin: String, CaseIterable, Sendable, CustomStringConvertible {
        case ipv4ByIndex, ipv4ByAddress, ipv6ByIndex
        var description: String { rawValue }
    }

    @Test(arguments: SourceJoin.allCases)
    func sourceSpecificJoinHearsOnlyThatSource(_ kind: SourceJoin) throws {
        let subnet = 15 + SourceJoin.allCases.firstIndex(of: kind)!
        try withNamespacePair(subnet: subnet) { pair in
            let family: AddressFamily = kind == .ipv6ByIndex ? .inet6 : .inet
            let group: IPAddress = family == .inet ? .v4(IPv4Address(232, 1, 1, 1)) : .v6(IPv6Address("ff35::8000:1")!)
            let source: IPAddress = family == .inet ? .v4(pair.v4A) : .v6(pair.v6A)
            let elsewhere: IPAddress =
                family == .inet ? .v4(IPv4Address(198, 18, UInt8(subnet), 3)) : .v6(IPv6Address("fd75::3")!)
            let interface: MulticastInterface = kind == .ipv4ByAddress ? .address(pair.v4B) : .index(pair.indexB)

            let member = try pair.inB { try UDPSocket(bindingTo: .any(family), reuseAddress: true) }
            let port = try member.localAddress.port
            let other = try pair.inB { try UDPSocket(bindingTo: .any(family, port: port), reuseAddress: true) }
            try member.setReceiveTimeout(receiveTimeout)
            try other.setMulticastAll(false)
            try member.joinMulticastGroup(group, interface: interface, source: source)
            try other.joinMulticastGroup(group, interface: interface, source: elsewhere)

            let sender = try pair.inA { try UDPSocket(bindingTo: SocketAddress(source, port: 0)) }
            try sender.setMulticastInterface(.index(pair.indexA))
            try sender.send(bytes("from A"), to: SocketAddress(group, port: port))

            let datagram = try member.receive()
            #expect(datagram.payload == bytes("from A"))
            #expect(datagram.sender.ip == source)
            // Delivered to both sockets in one pass, if at all: the member's copy settles the other's.
            #expect(try !other.waitUntilReadable(timeout: silenceWindow), "joined for another source")

            try member.leaveMulticastGroup(group, interface: interface, source: source)
            try other.leaveMulticastGroup(group, interface: interface, source: elsewhere)
        }
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func joiningOnAMissingInterfaceIsAnInterfaceError(_ family: AddressFamily) throws {
        try withNamespacePair(subnet: family == .inet ? 18 : 19) { pair in
            let socket = try pair.inB { try UDPSocket(bindingTo: .any(family)) }
            let group: IPAddress = family == .inet ? .v4(IPv4Address(239, 1, 2, 3)) : .v6(IPv6Address("ff15::1234")!)
            let byIndex = #expect(throws: UDPError.self) {
                try socket.joinMulticastGroup(group, interface: .index(3_999_999))
            }
            #expect(byIndex?.code == .unknownInterface)
            #expect(byIndex?.operation == .joinGroup)
            #expect(byIndex?.description.contains("\(group)") == true)
            if family == .inet {
                let byAddress = #expect(throws: UDPError.self) {
                    try socket.joinMulticastGroup(group, interface: .address(IPv4Address(203, 0, 113, 1)))
                }
                #expect(byAddress?.code == .unknownInterface)
            }
        }
    }

    @Test(arguments: [(AddressFamily.inet, 1472), (.inet6, 1452)])
    func pathMTUDiscoveryRefusesWhatTheLinkCannotCarry(_ family: AddressFamily, _ largest: Int) throws {
        try withNamespacePair(subnet: family == .inet ? 20 : 21) { pair in
            let receiverAddress = SocketAddress(family == .inet ? .v4(pair.v4B) : .v6(pair.v6B), port: 0)
            let receiver = try pair.inB { try UDPSocket(bindingTo: receiverAddress) }
            try receiver.setReceiveTimeout(receiveTimeout)
            let sender = try pair.inA { try UDPSocket(family: family) }
            try sender.setPathMTUDiscovery(.do)
            try sender.connect(to: receiver.localAddress)
            #expect(try sender.pathMTU == 1500)

            let error = #expect(throws: UDPError.self) { try sender.send(pattern(largest + 1, seed: 1)) }
            #expect(error?.code == .messageTooLarge)
            #expect(error?.errno == .messageTooLong)
            #expect(error?.pathMTU == 1500)
            #expect(error?.maximumSize == largest)
            #expect(error?.attemptedSize == largest + 1)
            #expect(error?.description.contains("path MTU 1500") == true, "\(String(describing: error))")

            let payload = pattern(largest, seed: 2)
            #expect(try sender.send(payload) == largest)
            let datagram = try receiver.receive()
            #expect(datagram.payload == payload)
        }
    }

    @Test func socketsStayInTheNamespaceTheyWereMadeIn() throws {
        try withNamespacePair(subnet: 22) { pair in
            // 198.18.22.2 exists only in B: binding it works there, and fails in A.
            let inB = try pair.inB { try UDPSocket(bindingTo: SocketAddress(pair.v4B, port: 0)) }
            #expect(try inB.localAddress.ip == .v4(pair.v4B))
            let inA = try pair.inA { try UDPSocket(family: .inet) }
            let error = #expect(throws: UDPError.self) { try inA.bind(to: SocketAddress(pair.v4B, port: 0)) }
            #expect(error?.errno == .addressNotAvailable)
            // And unicast crosses the link.
            try inA.setReceiveTimeout(receiveTimeout)
            try inB.setReceiveTimeout(receiveTimeout)
            try inA.send(bytes("hello B"), to: inB.localAddress)
            let datagram = try inB.receive()
            #expect(datagram.payload == bytes("hello B"))
            #expect(datagram.sender.ip == .v4(pair.v4A))
        }
    }
}
