import Testing

@testable import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite struct UDPSocketTests {
    @Test(arguments: [AddressFamily.inet, .inet6])
    func roundTripOverLoopback(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let client = try loopbackSocket(family)
        let serverAddress = try server.localAddress
        let clientAddress = try client.localAddress

        #expect(try client.send(bytes("ping"), to: serverAddress) == 4)
        let request = try server.receive()
        #expect(request.payload == bytes("ping"))
        #expect(request.sender == clientAddress)
        #expect(!request.isTruncated)

        try server.send(bytes("pong"), to: request.sender)
        let reply = try client.receive()
        #expect(reply.payload == bytes("pong"))
        #expect(reply.sender == serverAddress)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func bindingPortZeroReadsBackARealPort(_ family: AddressFamily) throws {
        let socket = try loopbackSocket(family)
        let address = try socket.localAddress
        #expect(address.port != 0)
        #expect(address.ip == family.loopback)
        #expect(address.family == family)
        #expect(socket.family == family)
    }

    @Test func dualStackSocketAnswersAnIPv4Client() throws {
        let server = try UDPSocket(bindingTo: .any(.inet6))
        try server.setReceiveTimeout(receiveTimeout)
        #expect(server.family == .inet6)
        #expect(try !server.isIPv6Only)
        let port = try server.localAddress.port
        let client = try loopbackSocket(.inet)
        let clientAddress = try client.localAddress

        try client.send(bytes("hello"), to: .loopbackV4(port: port))
        let request = try server.receive()
        #expect(request.payload == bytes("hello"))
        #expect(request.sender.isV4Mapped)
        #expect(request.sender.family == .inet6)
        #expect(request.sender.unmapped == clientAddress)

        // Replying to the mapped form, and to the plain IPv4 form, both reach the client.
        try server.send(bytes("mapped"), to: request.sender)
        try server.send(bytes("plain"), to: request.sender.unmapped)
        for expected in ["mapped", "plain"] {
            let reply = try client.receive()
            #expect(reply.payload == bytes(expected))
            #expect(reply.sender == .loopbackV4(port: port))
        }
    }

    @Test func ipv4AddressBindsMappedOnAnIPv6Socket() throws {
        let socket = try UDPSocket(family: .inet6)
        try socket.bind(to: .loopbackV4(port: 0))
        let address = try socket.localAddress
        #expect(address.isV4Mapped)
        #expect(address.unmapped.ip == .v4(.loopback))
        #expect(address.port != 0)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func connectedSocketHearsOnlyItsPeer(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let client = try loopbackSocket(family)
        let stranger = try loopbackSocket(family)
        let serverAddress = try server.localAddress
        let clientAddress = try client.localAddress

        try client.connect(to: serverAddress)
        #expect(try client.remoteAddress == serverAddress)

        try stranger.send(bytes("from stranger"), to: clientAddress)
        try server.send(bytes("from server"), to: clientAddress)
        let received = try client.receive()
        #expect(received.payload == bytes("from server"))
        #expect(received.sender == serverAddress)
        #expect(try !client.waitUntilReadable(timeout: .milliseconds(100)), "the stranger's datagram was let in")

        // And the connected send needs no address.
        try client.send(bytes("hi"))
        let atServer = try server.receive()
        #expect(atServer.payload == bytes("hi"))
        #expect(atServer.sender == clientAddress)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func disconnectingForgetsThePeer(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let stranger = try loopbackSocket(family)
        // An explicit port: Linux releases a port the kernel picked (bind to port 0) on disconnect.
        let clientAddress = SocketAddress(family.loopback, port: try unusedPort(family))
        let client = try UDPSocket(bindingTo: clientAddress)
        try client.setReceiveTimeout(receiveTimeout)

        let notConnected = #expect(throws: UDPError.self) { try client.remoteAddress }
        #expect(notConnected?.errno == .notConnected)
        #expect(notConnected?.operation == .remoteAddress)

        try client.connect(to: server.localAddress)
        try stranger.send(bytes("filtered"), to: clientAddress)
        try client.disconnect()
        let afterwards = #expect(throws: UDPError.self) { try client.remoteAddress }
        #expect(afterwards?.errno == .notConnected)
        #expect(try client.localAddress == clientAddress)

        // Disconnected, it hears anyone again.
        try stranger.send(bytes("again"), to: clientAddress)
        let datagram = try client.receive()
        #expect(datagram.payload == bytes("again"))
        #expect(datagram.sender == (try stranger.localAddress))
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func refusedConnectionSurfacesOnTheNextReceive(_ family: AddressFamily) throws {
        let nobody = SocketAddress(family.loopback, port: try unusedPort(family))
        let client = try loopbackSocket(family)
        try client.connect(to: nobody)
        try client.send(bytes("anyone?"))
        let error = #expect(throws: UDPError.self) { try client.receive() }
        #expect(error?.code == .connectionRefused)
        #expect(error?.errno == .connectionRefused)
        #expect(error?.operation == .receive)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func refusedConnectionSurfacesOnTheNextSend(_ family: AddressFamily) throws {
        let nobody = SocketAddress(family.loopback, port: try unusedPort(family))
        let client = try loopbackSocket(family)
        try client.connect(to: nobody)
        try client.send(bytes("anyone?"))
        // The ICMP answer comes back through loopback; wait for it to be queued as the socket's error.
        #expect(try client.waitUntilReadable(timeout: receiveTimeout))
        let error = #expect(throws: UDPError.self) { try client.send(bytes("still there?")) }
        #expect(error?.code == .connectionRefused)
        #expect(error?.operation == .send)
        // Reported once: the next send goes out again.
        #expect(try client.send(bytes("third")) == 5)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func oneServerTellsThreeClientsApart(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let serverAddress = try server.localAddress
        let clients = try (1...3).map { _ in try UDPSocketBox(loopbackSocket(family)) }
        var expected: [SocketAddress: Int] = [:]
        for (n, client) in clients.enumerated() {
            let address = try client.socket.localAddress
            expected[address] = n + 1
            for i in 0...n { try client.socket.send(bytes("\(n)/\(i)"), to: serverAddress) }
        }

        var counts: [SocketAddress: Int] = [:]
        for _ in 0..<6 {
            counts[try server.receive().sender, default: 0] += 1
        }
        #expect(counts == expected)
        #expect(try !server.waitUntilReadable(timeout: .milliseconds(50)))
    }

    @Test func nonBlockingCanBeSwitched() throws {
        // The socket remembers its mode; the kernel's O_NONBLOCK must agree at every step.
        var socket = try UDPSocket(family: .inet, nonBlocking: true)
        var modes = [(socket.isNonBlocking, kernelSaysNonBlocking(socket.descriptor))]
        try socket.setNonBlocking(false)
        modes.append((socket.isNonBlocking, kernelSaysNonBlocking(socket.descriptor)))
        try socket.setNonBlocking(false)
        modes.append((socket.isNonBlocking, kernelSaysNonBlocking(socket.descriptor)))
        try socket.setNonBlocking(true)
        modes.append((socket.isNonBlocking, kernelSaysNonBlocking(socket.descriptor)))
        #expect(modes.map(\.0) == [true, false, false, true])
        #expect(modes.map(\.1) == [true, false, false, true])
        let fresh = try UDPSocket(family: .inet6)
        let freshMode = fresh.isNonBlocking
        #expect(!freshMode)
        #expect(!kernelSaysNonBlocking(fresh.descriptor))
    }

    @Test(arguments: [false, true])
    func adoptingReadsTheBlockingMode(_ nonBlocking: Bool) throws {
        let original = try loopbackSocket(.inet, nonBlocking: nonBlocking)
        let adopted = try UDPSocket(adopting: original.takeDescriptor())
        let mode = adopted.isNonBlocking
        #expect(mode == nonBlocking)
        // And an empty queue is reported as the mode says: nothing now, or a timeout that passed.
        if !nonBlocking { try adopted.setReceiveTimeout(.milliseconds(20)) }
        let error = #expect(throws: UDPError.self) { try adopted.receive() }
        #expect(error?.code == (nonBlocking ? .wouldBlock : .timedOut))
    }

    @Test func descriptorIsCloseOnExec() throws {
        let socket = try UDPSocket(family: .inet)
        #expect(fcntl(socket.descriptor, F_GETFD) & FD_CLOEXEC != 0)
    }

    @Test("the descriptor is lent to a closure, which sees the socket itself; its typed error comes through")
    func lendsItsDescriptor() throws {
        let socket = try loopbackSocket(.inet)
        let port = socket.withUnsafeDescriptor { descriptor -> UInt16 in
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
            }
            return named == 0 ? UInt16(bigEndian: address.sin_port) : 0
        }
        #expect(port == (try socket.localAddress).port && port != 0)
        let error = #expect(throws: UDPError.self) {
            try socket.withUnsafeDescriptor { (_) throws(UDPError) in throw UDPError(.timedOut, .receive) }
        }
        #expect(error?.code == .timedOut)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func closeReleasesThePort(_ family: AddressFamily) throws {
        let socket = try socketBelowTheEphemeralRange(family)
        let address = try socket.localAddress
        try socket.close()
        // Bound again without SO_REUSEADDR: only possible if the first descriptor is gone.
        let again = try bindAgain(address)
        #expect(try again.localAddress == address)
    }

    @Test func goingOutOfScopeReleasesThePort() throws {
        let address = try { () throws -> SocketAddress in
            let socket = try socketBelowTheEphemeralRange(.inet)
            return try socket.localAddress
        }()
        let again = try bindAgain(address)
        #expect(try again.localAddress == address)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func takenDescriptorStaysOpenUntilItsNewOwnerClosesIt(_ family: AddressFamily) throws {
        let socket = try socketBelowTheEphemeralRange(family)
        let address = try socket.localAddress
        let fd = socket.takeDescriptor()
        #expect(fcntl(fd, F_GETFD) != -1, "the descriptor was closed")
        // Still bound: nobody else can have the port.
        #expect(throws: UDPError.self) { _ = try UDPSocket(bindingTo: address) }
        #expect(close(fd) == 0)
        let again = try bindAgain(address)
        #expect(try again.localAddress == address)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func adoptsADescriptor(_ family: AddressFamily) throws {
        let original = try loopbackSocket(family)
        let address = try original.localAddress
        let adopted = try UDPSocket(adopting: original.takeDescriptor())
        #expect(adopted.family == family)
        #expect(try adopted.localAddress == address)

        let client = try loopbackSocket(family)
        try adopted.setReceiveTimeout(receiveTimeout)
        try client.send(bytes("adopted"), to: address)
        #expect(try adopted.receive().payload == bytes("adopted"))
    }

    @Test func adoptsAnUnboundDescriptorMadeElsewhere() throws {
        let fd = socket(AF_INET6, CInt(SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        let adopted = try UDPSocket(adopting: fd)
        #expect(adopted.family == .inet6)
        try adopted.bind(to: .loopbackV6(port: 0))
        #expect(try adopted.localAddress.port != 0)
    }

    @Test(arguments: [(AF_INET, SOCK_STREAM), (AF_UNIX, SOCK_DGRAM)])
    func refusesToAdoptOtherSockets(_ domain: CInt, _ type: __socket_type) throws {
        let fd = socket(domain, CInt(type.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        let error = #expect(throws: UDPError.self) { _ = try UDPSocket(adopting: fd) }
        #expect(error?.code == .invalidArgument)
        // The descriptor is still the caller's, and still open.
        #expect(fcntl(fd, F_GETFD) != -1)
    }

    @Test func refusesToAdoptSomethingThatIsNotASocket() throws {
        var ends: [CInt] = [-1, -1]
        try #require(pipe(&ends) == 0)
        defer {
            close(ends[0])
            close(ends[1])
        }
        let error = #expect(throws: UDPError.self) { _ = try UDPSocket(adopting: ends[0]) }
        #expect(error?.errno == Errno(rawValue: ENOTSOCK))
        #expect(fcntl(ends[0], F_GETFD) != -1)
    }

    @Test func bindingAnAddressThatIsNotLocalFails() {
        let foreign = SocketAddress(IPv4Address(203, 0, 113, 7), port: 0)
        let error = #expect(throws: UDPError.self) { _ = try UDPSocket(bindingTo: foreign) }
        #expect(error?.errno == .addressNotAvailable)
        #expect(error?.operation == .bind)
        #expect(error?.address == foreign)
    }

    @Test func ipv4SocketCannotBindAnIPv6Address() throws {
        let socket = try UDPSocket(family: .inet)
        let error = #expect(throws: UDPError.self) { try socket.bind(to: .loopbackV6(port: 0)) }
        #expect(error?.operation == .bind)
        #expect(error?.errno != nil)
    }

    @Test func reuseAddressIsSetBeforeBinding() throws {
        let first = try UDPSocket(bindingTo: .loopbackV4(port: 0), reuseAddress: true)
        #expect(try first.reuseAddress)
        let second = try UDPSocket(bindingTo: first.localAddress, reuseAddress: true)
        #expect(try second.localAddress == first.localAddress)
    }
}

/// Whether the kernel has `O_NONBLOCK` set on `descriptor`.
private func kernelSaysNonBlocking(_ descriptor: CInt) -> Bool { fcntl(descriptor, F_GETFL) & O_NONBLOCK != 0 }
