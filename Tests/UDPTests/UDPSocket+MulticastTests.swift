import Testing

@testable import UDP

// Local settings only: nothing here joins a group or sends to one. Memberships and multicast traffic are
// tested inside network namespaces (NamespaceTests).
@Suite struct UDPSocketMulticastTests {
    @Test(arguments: [AddressFamily.inet, .inet6])
    func multicastHops(_ family: AddressFamily) throws {
        let hops = SocketOption(
            "multicastHops",
            initially: 1,
            then: [5, 0, 255],
            { try $0.multicastHops },
            { try $0.setMulticastHops($1) }
        )
        let socket = try UDPSocket(family: family)
        try hops.expectRoundTrip(on: socket)
        let error = #expect(throws: UDPError.self) { try socket.setMulticastHops(256) }
        #expect(error?.code == .invalidArgument)
        #expect(try socket.multicastHops == 255)
    }

    static let booleanOptions: [SocketOption<Bool>] = [
        SocketOption(
            "multicastLoopback",
            initially: true,
            { try $0.multicastLoopback },
            { try $0.setMulticastLoopback($1) }
        ),
        SocketOption("multicastAll", initially: true, { try $0.multicastAll }, { try $0.setMulticastAll($1) }),
    ]

    @Test(arguments: booleanOptions, [AddressFamily.inet, .inet6])
    func booleanOptionRoundTrips(_ option: SocketOption<Bool>, _ family: AddressFamily) throws {
        try option.expectRoundTrip(on: UDPSocket(family: family))
    }

    @Test func ipv6MulticastInterfaceReadsBack() throws {
        let socket = try UDPSocket(family: .inet6)
        #expect(try socket.multicastInterfaceIndex == 0)
        try socket.setMulticastInterface(.index(loopbackInterfaceIndex))
        #expect(try socket.multicastInterfaceIndex == loopbackInterfaceIndex)
        try socket.setMulticastInterface(.any)
        #expect(try socket.multicastInterfaceIndex == 0)
    }

    @Test func ipv4MulticastInterfaceByIndexOrAddress() throws {
        let socket = try UDPSocket(family: .inet)
        try socket.setMulticastInterface(.index(loopbackInterfaceIndex))
        try socket.setMulticastInterface(.address(.loopback))
        try socket.setMulticastInterface(.any)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func unknownMulticastInterfaceIsNamedSo(_ family: AddressFamily) throws {
        let socket = try UDPSocket(family: family)
        let error = #expect(throws: UDPError.self) { try socket.setMulticastInterface(.index(3_999_999)) }
        #expect(error?.code == .unknownInterface)
        #expect(error?.operation == .setOption)
    }

    @Test func ipv4MulticastInterfaceAddressMustBeLocal() throws {
        let socket = try UDPSocket(family: .inet)
        let error = #expect(throws: UDPError.self) {
            try socket.setMulticastInterface(.address(IPv4Address(203, 0, 113, 9)))
        }
        #expect(error?.code == .unknownInterface)
    }

    @Test func ipv6MulticastInterfaceCannotBeAnIPv4Address() throws {
        let socket = try UDPSocket(family: .inet6)
        let error = #expect(throws: UDPError.self) { try socket.setMulticastInterface(.address(.loopback)) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.errno == nil)
    }

    @Test func parsesInterfaceNamesIndexesAndAddresses() throws {
        #expect(try MulticastInterface(parsing: "lo") == .index(loopbackInterfaceIndex))
        #expect(try MulticastInterface(parsing: String(loopbackInterfaceIndex)) == .index(loopbackInterfaceIndex))
        #expect(try MulticastInterface(parsing: "127.0.0.1") == .address(.loopback))
        let error = #expect(throws: UDPError.self) { try MulticastInterface(parsing: "nosuch0") }
        #expect(error?.code == .unknownInterface)
    }

    // These are refused before any system call, so no membership is ever attempted.

    @Test(arguments: ["127.0.0.1", "192.0.2.1", "::1", "fe80::1"])
    func joiningANonMulticastAddressIsRefused(_ text: String) throws {
        let group = try #require(IPAddress(text))
        let socket = try UDPSocket(family: group.family)
        let join = #expect(throws: UDPError.self) { try socket.joinMulticastGroup(group) }
        #expect(join?.code == .invalidArgument)
        #expect(join?.operation == .joinGroup)
        #expect(join?.errno == nil)
        #expect(join?.description.contains(text) == true)
        let leave = #expect(throws: UDPError.self) { try socket.leaveMulticastGroup(group) }
        #expect(leave?.code == .invalidArgument)
        #expect(leave?.operation == .leaveGroup)
    }

    @Test(arguments: [("232.1.1.1", "fd00::1"), ("ff35::1", "192.0.2.1")])
    func sourceOfTheOtherFamilyIsRefused(_ group: String, _ source: String) throws {
        let groupAddress = try #require(IPAddress(group))
        let sourceAddress = try #require(IPAddress(source))
        let socket = try UDPSocket(family: .inet6)
        let error = #expect(throws: UDPError.self) {
            try socket.joinMulticastGroup(groupAddress, source: sourceAddress)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.errno == nil)
    }

    @Test func ipv6GroupNeedsAnInterfaceIndexNotAnAddress() throws {
        let socket = try UDPSocket(family: .inet6)
        let group = IPAddress.v6(try #require(IPv6Address("ff15::1234")))
        let error = #expect(throws: UDPError.self) {
            try socket.joinMulticastGroup(group, interface: .address(.loopback))
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.errno == nil)
        let ssm = #expect(throws: UDPError.self) {
            try socket.joinMulticastGroup(
                .v6(#require(IPv6Address("ff35::1"))),
                interface: .address(.loopback),
                source: .v6(.loopback)
            )
        }
        #expect(ssm?.code == .invalidArgument)
        #expect(ssm?.errno == nil)
    }
}
