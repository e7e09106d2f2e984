import CUDP
import Testing

@testable import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite struct UDPSocketReceiveTests {
    @Test(arguments: [AddressFamily.inet, .inet6])
    func receiveTimeoutFiresNearItsDeadline(_ family: AddressFamily) throws {
        let socket = try loopbackSocket(family)
        try socket.setReceiveTimeout(.milliseconds(200))
        let clock = ContinuousClock()
        let start = clock.now
        let error = #expect(throws: UDPError.self) { try socket.receive() }
        let elapsed = clock.now - start
        #expect(error?.code == .timedOut)
        #expect(error?.errno == .wouldBlock)
        #expect(error?.operation == .receive)
        #expect(error?.description == "receive: timed out")
        #expect(elapsed >= .milliseconds(150), "gave up after \(elapsed)")
        #expect(elapsed < .milliseconds(1500), "gave up after \(elapsed)")
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func receiveWithTimeoutReturnsNilAtTheDeadline(_ family: AddressFamily) throws {
        let socket = try loopbackSocket(family)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(try socket.receive(timeout: .milliseconds(150)) == nil)
        let elapsed = clock.now - start
        #expect(elapsed >= .milliseconds(140), "gave up after \(elapsed)")
        #expect(elapsed < .milliseconds(1500), "gave up after \(elapsed)")

        let client = try loopbackSocket(family)
        try client.send(bytes("in time"), to: socket.localAddress)
        let datagram = try #require(try socket.receive(timeout: .seconds(2)))
        #expect(datagram.payload == bytes("in time"))
        #expect(datagram.sender == (try client.localAddress))
        // The socket's own blocking mode and timeout are left alone.
        let nonBlocking = socket.isNonBlocking
        #expect(!nonBlocking)
        #expect(fcntl(socket.descriptor, F_GETFL) & O_NONBLOCK == 0)
        #expect(try socket.receiveTimeout == receiveTimeout)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func dontWaitOnABlockingSocketWouldBlock(_ family: AddressFamily) throws {
        // A call that says it does not wait hears "nothing now", not a timeout, whatever the socket's mode.
        let socket = try loopbackSocket(family)
        var buffer = [UInt8](repeating: 0, count: 16)
        let error = #expect(throws: UDPError.self) {
            try buffer.withUnsafeMutableBytes { buffer in
                Result { () throws(UDPError) in
                    try socket.receiveMessage(into: buffer, flags: receiveFlags | cudp_MSG_DONTWAIT)
                }
            }.get()
        }
        #expect(error?.code == .wouldBlock)
        #expect(error?.errno == .wouldBlock)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func nonBlockingReceiveWithNothingQueuedWouldBlock(_ family: AddressFamily) throws {
        let socket = try loopbackSocket(family, nonBlocking: true)
        let error = #expect(throws: UDPError.self) { try socket.receive() }
        #expect(error?.code == .wouldBlock)
        #expect(error?.errno == .wouldBlock)

        // Once something is queued, the same call succeeds at once.
        let client = try loopbackSocket(family)
        try client.send(bytes("now"), to: socket.localAddress)
        #expect(try socket.waitUntilReadable(timeout: receiveTimeout))
        #expect(try socket.receive().payload == bytes("now"))
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func truncationIsReportedWithTheRealLength(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let client = try loopbackSocket(family)
        let payload = pattern(100, seed: 7)
        try client.send(payload, to: server.localAddress)

        var buffer = [UInt8](repeating: 0, count: 10)
        let info = try buffer.withUnsafeMutableBytes { raw in try server.receive(into: raw) }
        #expect(info.count == 10)
        #expect(info.length == 100)
        #expect(info.isTruncated)
        #expect(info.sender == (try client.localAddress))
        #expect(buffer == Array(payload.prefix(10)))
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func arrayReceiveKeepsOnlyWhatArrived(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let client = try loopbackSocket(family)
        try client.send(pattern(300, seed: 1), to: server.localAddress)
        try client.send(pattern(300, seed: 2), to: server.localAddress)

        let whole = try server.receive()
        #expect(whole.payload == pattern(300, seed: 1))
        #expect(whole.length == 300)
        #expect(!whole.isTruncated)

        let cut = try server.receive(maximumSize: 16)
        #expect(cut.payload == Array(pattern(300, seed: 2).prefix(16)))
        #expect(cut.length == 300)
        #expect(cut.isTruncated)
        #expect(cut.info.count == 16)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func emptyDatagramsArriveEmpty(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let client = try loopbackSocket(family)
        #expect(try client.send([UInt8](), to: server.localAddress) == 0)
        let datagram = try server.receive()
        #expect(datagram.payload.isEmpty)
        #expect(datagram.length == 0)
        #expect(!datagram.isTruncated)
        #expect(datagram.sender == (try client.localAddress))
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func packetInfoIsAbsentUnlessAskedFor(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let client = try loopbackSocket(family)
        try client.send(bytes("x"), to: server.localAddress)
        let info = try server.receive().info
        #expect(info.destination == nil)
        #expect(info.interfaceIndex == nil)
        #expect(info.kernelDropCount == nil)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func waitUntilReadableTimesOutThenSeesADatagram(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let client = try loopbackSocket(family)
        #expect(try !server.waitUntilReadable(timeout: .milliseconds(20)))
        #expect(try !server.waitUntilReadable(timeout: .zero))
        try client.send(bytes("x"), to: server.localAddress)
        #expect(try server.waitUntilReadable(timeout: receiveTimeout))
        #expect(try server.waitUntilReadable(timeout: nil), "a queued datagram must not wait for ever")
    }

    @Test(arguments: [
        (Duration.zero, CInt(0)),
        (.nanoseconds(1), 1),
        (.microseconds(1500), 2),
        (.milliseconds(250), 250),
        (.seconds(3), 3000),
        (.seconds(-1), 0),
        (.seconds(3_000_000), CInt.max),
    ])
    func pollTimeoutsRoundUpToMilliseconds(_ duration: Duration, _ milliseconds: CInt) {
        #expect(UDPSocket.milliseconds(rounding: duration) == milliseconds)
    }

    // An exit test, so that a trap in the conversion cannot take the whole test run down with it.
    @Test func hugePollTimeoutsClampInsteadOfTrapping() async {
        await #expect(processExitsWith: .success) {
            #expect(UDPSocket.milliseconds(rounding: .seconds(Int64.max)) == CInt.max)
        }
    }
}
