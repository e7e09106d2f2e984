import Testing

@testable import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Each option set and read back from the kernel, on both families (socket2's `test!` shape).
@Suite struct UDPSocketOptionsTests {
    static let booleanOptions: [SocketOption<Bool>] = [
        SocketOption("reuseAddress", initially: false, { try $0.reuseAddress }, { try $0.setReuseAddress($1) }),
        SocketOption("reusePort", initially: false, { try $0.reusePort }, { try $0.setReusePort($1) }),
        SocketOption("broadcast", initially: false, { try $0.broadcast }, { try $0.setBroadcast($1) }),
        SocketOption(
            "receivePacketInfo",
            initially: false,
            { try $0.receivePacketInfo },
            { try $0.setReceivePacketInfo($1) }
        ),
        SocketOption(
            "receiveHopLimit",
            initially: false,
            { try $0.receiveHopLimit },
            { try $0.setReceiveHopLimit($1) }
        ),
        SocketOption(
            "receiveDropCount",
            initially: false,
            { try $0.receiveDropCount },
            { try $0.setReceiveDropCount($1) }
        ),
    ]

    @Test(arguments: booleanOptions, [AddressFamily.inet, .inet6])
    func booleanOptionRoundTrips(_ option: SocketOption<Bool>, _ family: AddressFamily) throws {
        try option.expectRoundTrip(on: UDPSocket(family: family))
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func reusePortLetsTwoSocketsShareAPort(_ family: AddressFamily) throws {
        let first = try UDPSocket(family: family)
        try first.setReusePort(true)
        try first.bind(to: SocketAddress(family.loopback, port: 0))
        let second = try UDPSocket(family: family)
        try second.setReusePort(true)
        try second.bind(to: first.localAddress)
        #expect(try second.localAddress == first.localAddress)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func bufferSizesAreGrantedDoubled(_ family: AddressFamily) throws {
        let socket = try UDPSocket(family: family)
        try socket.setReceiveBufferSize(65_536)
        try socket.setSendBufferSize(65_536)
        let receive = try socket.receiveBufferSize
        let send = try socket.sendBufferSize
        #expect(receive >= 65_536)
        #expect(send >= 65_536)
        #if os(Linux)
        #expect(receive == 131_072)
        #expect(send == 131_072)
        #endif
    }

    @Test func ipv6SocketsStartDualStack() throws {
        let socket = try UDPSocket(family: .inet6)
        #expect(try !socket.isIPv6Only)
        try socket.setIPv6Only(true)
        #expect(try socket.isIPv6Only)
        try socket.setIPv6Only(false)
        #expect(try !socket.isIPv6Only)
        #expect(throws: UDPError.self) { try UDPSocket(family: .inet).isIPv6Only }
    }

    @Test func ipv6OnlyFreesThePortForAnIPv4Socket() throws {
        // Dual-stack `[::]:p` holds `0.0.0.0:p` too; a v6-only one does not.
        let dual = try UDPSocket(bindingTo: .any(.inet6))
        let dualPort = try dual.localAddress.port
        let clash = #expect(throws: UDPError.self) { _ = try UDPSocket(bindingTo: .any(.inet, port: dualPort)) }
        #expect(clash?.errno == .addressInUse)

        let v6only = try UDPSocket(family: .inet6)
        try v6only.setIPv6Only(true)
        try v6only.bind(to: .any(.inet6))
        let port = try v6only.localAddress.port
        let v4 = try UDPSocket(bindingTo: .any(.inet, port: port))
        #expect(try v4.localAddress.port == port)
    }

    static let integerOptions: [SocketOption<Int>] = [
        SocketOption(
            "unicastHops",
            initially: 64,
            then: [17, 255],
            { try $0.unicastHops },
            { try $0.setUnicastHops($1) }
        ),
        // DSCP EF, then DSCP AF11 with ECT(1).
        SocketOption(
            "typeOfService",
            initially: 0,
            then: [0xB8, 0x29],
            { Int(try $0.typeOfService) },
            { try $0.setTypeOfService(UInt8($1)) }
        ),
    ]

    @Test(arguments: integerOptions, [AddressFamily.inet, .inet6])
    func integerOptionRoundTrips(_ option: SocketOption<Int>, _ family: AddressFamily) throws {
        try option.expectRoundTrip(on: UDPSocket(family: family))
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func unicastHopsOutOfRangeAreRefused(_ family: AddressFamily) throws {
        let socket = try UDPSocket(family: family)
        try socket.setUnicastHops(255)
        for bad in [0, 256, -2] {
            let error = #expect(throws: UDPError.self) { try socket.setUnicastHops(bad) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.errno == nil)
            #expect(error?.description.contains("1-255") == true)
        }
        #expect(try socket.unicastHops == 255)
        try socket.setUnicastHops(-1)  // the system default again
        #expect(try socket.unicastHops == 64)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func pathMTUDiscoveryModes(_ family: AddressFamily) throws {
        let socket = try UDPSocket(family: family)
        for mode in [PathMTUDiscovery.do, .dont, .probe, .want] {
            try socket.setPathMTUDiscovery(mode)
            #expect(try socket.pathMTUDiscovery == mode)
        }
    }

    @Test(arguments: [(AddressFamily.inet, 65_535), (.inet6, 65_536)])
    func pathMTUNeedsAPeer(_ family: AddressFamily, _ loopbackMTU: Int) throws {
        let socket = try loopbackSocket(family)
        let error = #expect(throws: UDPError.self) { try socket.pathMTU }
        #expect(error?.errno == .notConnected)
        let server = try loopbackSocket(family)
        try socket.connect(to: server.localAddress)
        // lo's MTU is 65536; IPv4 caps a route's MTU at 65535 (IP_MAX_MTU).
        #expect(try socket.pathMTU == loopbackMTU)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func packetInfoReportsDestinationAndInterface(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        #expect(try !server.receivePacketInfo)
        try server.setReceivePacketInfo(true)
        #expect(try server.receivePacketInfo)

        let client = try loopbackSocket(family)
        try client.send(bytes("where am I"), to: server.localAddress)
        let info = try server.receive().info
        #expect(info.destination == family.loopback)
        #expect(info.interfaceIndex == loopbackInterfaceIndex)

        try server.setReceivePacketInfo(false)
        #expect(try !server.receivePacketInfo)
        try client.send(bytes("again"), to: server.localAddress)
        #expect(try server.receive().info.destination == nil)
    }

    @Test func packetInfoOnADualStackSocketShowsIPv4Destinations() throws {
        let server = try UDPSocket(bindingTo: .any(.inet6))
        try server.setReceiveTimeout(receiveTimeout)
        try server.setReceivePacketInfo(true)
        let client = try loopbackSocket(.inet)
        try client.send(bytes("v4"), to: .loopbackV4(port: try server.localAddress.port))
        let info = try server.receive().info
        #expect(info.destination == .v4(.loopback))
        #expect(info.interfaceIndex == loopbackInterfaceIndex)
    }

    @Test func packetInfoAndHopLimitOnAnIPv6OnlySocket() throws {
        // Both also set their IPv4 option, which an IPv6-only socket takes and never uses.
        let socket = try UDPSocket(family: .inet6)
        try socket.setIPv6Only(true)
        try socket.setReceivePacketInfo(true)
        try socket.setReceiveHopLimit(true)
        #expect(try socket.receivePacketInfo)
        #expect(try socket.receiveHopLimit)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func hopLimitIsReportedPerDatagram(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        try server.setReceiveHopLimit(true)
        let client = try loopbackSocket(family)
        try client.send(bytes("default"), to: server.localAddress)
        #expect(try server.receive().info.hopLimit == UInt8(try client.unicastHops))
        // Loopback does not decrement: what was sent is what arrives.
        for hops in [1, 17, 255] {
            try client.setUnicastHops(hops)
            try client.send(bytes("\(hops)"), to: server.localAddress)
            #expect(try server.receive().info.hopLimit == UInt8(hops))
        }
        // A batch reports it for each slot.
        try client.setUnicastHops(3)
        try client.send(bytes("in a batch"), to: server.localAddress)
        var batch = DatagramBatch(capacity: 2, bufferSize: 64)
        #expect(try server.receive(into: &batch) == 1)
        #expect(batch.info(at: 0).hopLimit == 3)

        try server.setReceiveHopLimit(false)
        try client.send(bytes("off"), to: server.localAddress)
        #expect(try server.receive().info.hopLimit == nil)
    }

    @Test func hopLimitOnADualStackSocketShowsIPv4TTLs() throws {
        let server = try UDPSocket(bindingTo: .any(.inet6))
        try server.setReceiveTimeout(receiveTimeout)
        try server.setReceiveHopLimit(true)
        #expect(try server.receiveHopLimit)
        let client = try loopbackSocket(.inet)
        try client.setUnicastHops(9)
        try client.send(bytes("v4"), to: .loopbackV4(port: try server.localAddress.port))
        let info = try server.receive().info
        #expect(info.sender.isV4Mapped)
        #expect(info.hopLimit == 9)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func receiveDropCountStartsAtZero(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        #expect(try !server.receiveDropCount)
        try server.setReceiveDropCount(true)
        #expect(try server.receiveDropCount)
        let client = try loopbackSocket(family)
        try client.send(bytes("counted"), to: server.localAddress)
        let info = try server.receive().info
        // Linux attaches the counter only once it is above zero: nil means "no drop yet", as documented.
        #expect(info.kernelDropCount == nil)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func receiveDropCountSeesAnOverflow(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family, nonBlocking: true)
        try server.setReceiveDropCount(true)
        try server.setReceiveBufferSize(1)  // the kernel's minimum: a few datagrams at most
        let client = try loopbackSocket(family)
        let target = try server.localAddress
        let payload = pattern(200, seed: 3)
        for _ in 0..<500 { try client.send(payload, to: target) }

        // A datagram carries the count as it was when it was queued: drain the early ones, then send one more.
        var drained = 0
        while try server.waitUntilReadable(timeout: .milliseconds(50)) {
            _ = try server.receive()
            drained += 1
        }
        #expect(drained > 0)
        #expect(drained < 500, "nothing was dropped")
        try client.send(payload, to: target)
        #expect(try server.waitUntilReadable(timeout: receiveTimeout))
        let info = try server.receive().info
        let drops = try #require(info.kernelDropCount)
        #expect(Int(drops) == 500 - drained)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func receiveAndSendTimeouts(_ family: AddressFamily) throws {
        let socket = try UDPSocket(family: family)
        #expect(try socket.receiveTimeout == nil)
        #expect(try socket.sendTimeout == nil)
        // Multiples of the kernel's tick (4 ms at HZ=250, 1 ms at HZ=1000) read back exactly.
        try socket.setReceiveTimeout(.milliseconds(500))
        try socket.setSendTimeout(.seconds(2))
        #expect(try socket.receiveTimeout == .milliseconds(500))
        #expect(try socket.sendTimeout == .seconds(2))
        try socket.setReceiveTimeout(.seconds(3) + .milliseconds(100))
        #expect(try socket.receiveTimeout == .milliseconds(3100))
        try socket.setReceiveTimeout(nil)
        try socket.setSendTimeout(nil)
        #expect(try socket.receiveTimeout == nil)
        #expect(try socket.sendTimeout == nil)
    }

    @Test func tinyTimeoutsDoNotBecomeForever() throws {
        let socket = try loopbackSocket(.inet)
        try socket.setReceiveTimeout(.nanoseconds(10))
        let timeout = try #require(try socket.receiveTimeout)
        #expect(timeout > .zero)
        #expect(timeout <= .milliseconds(10))
        let error = #expect(throws: UDPError.self) { try socket.receive() }
        #expect(error?.code == .timedOut)
    }

    @Test(arguments: [Duration.zero, .seconds(-1)])
    func nonPositiveTimeoutsAreRefused(_ timeout: Duration) throws {
        let socket = try UDPSocket(family: .inet)
        let error = #expect(throws: UDPError.self) { try socket.setReceiveTimeout(timeout) }
        #expect(error?.code == .invalidArgument)
        #expect(throws: UDPError.self) { try socket.setSendTimeout(timeout) }
        #expect(try socket.receiveTimeout == nil)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func pendingErrorIsReadOnce(_ family: AddressFamily) throws {
        let client = try loopbackSocket(family)
        #expect(try client.takePendingError() == nil)
        try client.connect(to: SocketAddress(family.loopback, port: try unusedPort(family)))
        try client.send(bytes("anyone?"))
        #expect(try client.waitUntilReadable(timeout: receiveTimeout))
        #expect(try client.takePendingError() == .connectionRefused)
        #expect(try client.takePendingError() == nil)
    }
}
