import Testing

@testable import UDP

// The error queue on loopback: the local kernel answers a datagram to a closed port with ICMP port unreachable,
// which is all loopback can show. Routers' errors (unreachable networks, time exceeded, packet too big) are in
// ErrorQueueChainTests, between namespaces.
@Suite struct UDPSocketErrorQueueTests {
    @Test(arguments: [AddressFamily.inet, .inet6])
    func theOptionReadsBack(_ family: AddressFamily) throws {
        let socket = try loopbackSocket(family)
        #expect(try socket.receivesErrors == false)
        try socket.setReceiveErrors(true)
        #expect(try socket.receivesErrors)
        try socket.setReceiveErrors(false)
        #expect(try socket.receivesErrors == false)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func aClosedPortIsATypedEventOnAnUnconnectedSocket(_ family: AddressFamily) throws {
        let socket = try loopbackSocket(family)
        try socket.setReceiveErrors(true)
        let target = SocketAddress(family.loopback, port: try unusedPort(family))
        try socket.send(bytes("probe 7"), to: target)

        let event = try #require(try nextError(on: socket))
        #expect(event.kind == .portUnreachable)
        #expect(event.origin == (family == .inet ? .icmp : .icmpv6))
        #expect(event.errno == .connectionRefused)
        #expect(event.offender == family.loopback)
        #expect(event.destination == target)
        #expect(event.quotedPayload == bytes("probe 7"), "the quote matches the error to what was sent")
        #expect(event.description == "From \(family.loopback): port unreachable")
        #expect(try socket.receiveError() == nil, "one datagram, one error")
    }

    @Test func aDualStackSocketHearsItsIPv4PeersAsIPv4() throws {
        let socket = try UDPSocket(bindingTo: .any(.inet6))
        try socket.setReceiveErrors(true)
        let target = SocketAddress(IPv4Address.loopback, port: try unusedPort(.inet))
        try socket.send(bytes("mapped"), to: target)

        let event = try #require(try nextError(on: socket))
        #expect(event.kind == .portUnreachable)
        #expect(event.offender == .v4(.loopback))
        #expect(event.destination.unmapped == target)
        #expect(event.quotedPayload == bytes("mapped"))
    }

    /// With the queue on, the kernel fails the next call once with the pending error: a send that fails so
    /// never left (quinn-rs/quinn#2704), so it is sent again.
    @Test(arguments: [AddressFamily.inet, .inet6])
    func aSendAfterAnErrorStillLeaves(_ family: AddressFamily) throws {
        let socket = try loopbackSocket(family)
        try socket.setReceiveErrors(true)
        try socket.send(bytes("to nobody"), to: SocketAddress(family.loopback, port: try unusedPort(family)))
        #expect(try socket.waitUntilReadable(timeout: receiveTimeout), "the error raises POLLERR")

        let peer = try loopbackSocket(family)
        try socket.send(bytes("to somebody"), to: peer.localAddress)
        #expect(try peer.receive().payload == bytes("to somebody"))
        #expect(try nextError(on: socket)?.kind == .portUnreachable, "the event stays queued for its reader")
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func aTimedReceiveThrowsTheQueuedErrorThenWaitsAgain(_ family: AddressFamily) throws {
        let socket = try loopbackSocket(family)
        try socket.setReceiveErrors(true)
        let target = SocketAddress(family.loopback, port: try unusedPort(family))
        try socket.send(bytes("anyone?"), to: target)

        let error = #expect(throws: UDPError.self) { try socket.receive(timeout: receiveTimeout) }
        #expect(error?.code == .connectionRefused)
        #expect(error?.deliveryError?.offender == family.loopback)
        #expect(error?.address == target)
        #expect(
            error?.description == "receive \(target): connection refused (port unreachable, from \(family.loopback))"
        )

        // The queue is read and the pending error spent: the next wait sleeps to its deadline, not spinning on
        // POLLERR, and a datagram still arrives.
        #expect(try socket.receive(timeout: .milliseconds(50)) == nil)
        let peer = try loopbackSocket(family)
        try peer.send(bytes("late"), to: socket.localAddress)
        #expect(try socket.receive(timeout: receiveTimeout)?.payload == bytes("late"))
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func aConnectedSocketsRefusalNamesWhoRefused(_ family: AddressFamily) throws {
        let socket = try loopbackSocket(family)
        try socket.setReceiveErrors(true)
        let target = SocketAddress(family.loopback, port: try unusedPort(family))
        try socket.connect(to: target)
        try socket.send(bytes("hello?"))

        // A blocking receive (with the socket's 2 s timeout) is woken by the error.
        let error = #expect(throws: UDPError.self) { try socket.receive() }
        #expect(error?.code == .connectionRefused)
        #expect(error?.deliveryError?.kind == .portUnreachable)
        #expect(error?.deliveryError?.quotedPayload == bytes("hello?"))
        // The next send is not failed by the error already reported.
        try socket.send(bytes("again"))
        #expect(try nextError(on: socket)?.quotedPayload == bytes("again"))
    }

    @Test func aBatchReceiveReportsTheQueuedError() throws {
        let socket = try loopbackSocket(.inet)
        try socket.setReceiveErrors(true)
        try socket.send(bytes("batch"), to: SocketAddress(IPAddress.v4(.loopback), port: try unusedPort(.inet)))
        #expect(try socket.waitUntilReadable(timeout: receiveTimeout))
        var batch = DatagramBatch(capacity: 4, bufferSize: 64)
        let error = #expect(throws: UDPError.self) { try socket.receive(into: &batch) }
        #expect(error?.deliveryError?.quotedPayload == bytes("batch"))
    }
}

/// Waits for the socket's next queued error, up to the tests' receive timeout: poll reports the queue as
/// `POLLERR`, which ends the wait as readability would.
func nextError(on socket: borrowing UDPSocket) throws -> DeliveryError? {
    guard try socket.waitUntilReadable(timeout: receiveTimeout) else { return nil }
    return try socket.receiveError()
}
