import NIOCore
import Testing
import UDP
import UDPAsync

@Suite struct AsyncUDPSocketTests {
    @Test(arguments: [AddressFamily.inet, .inet6])
    func sendAndReceive(family: AddressFamily) async throws {
        let server = try await AsyncUDPSocket.bind(to: loopback(family))
        let client = try await AsyncUDPSocket.bind(to: loopback(family), configuration: clientConfiguration)
        #expect(server.localAddress.family == family)
        #expect(server.localAddress.port != 0)
        try await withTimeout {
            try await server.executeThenClose { serverInbound, serverOutbound in
                try await client.executeThenClose { clientInbound, clientOutbound in
                    try await clientOutbound.send(Array("hello".utf8), to: server.localAddress)
                    var requests = serverInbound.makeAsyncIterator()
                    let request = try #require(try await requests.next())
                    #expect(request.bytes == Array("hello".utf8))
                    #expect(request.sender == client.localAddress)
                    #expect(request.ecn == nil)
                    #expect(request.destination == nil)
                    #expect(request.segmentSize == nil)
                    #expect(!request.mayBeTruncated)

                    var reply = ByteBuffer(string: "ack: ")
                    reply.writeImmutableBuffer(request.buffer)
                    try await serverOutbound.send(reply, to: request.sender)
                    var replies = clientInbound.makeAsyncIterator()
                    let answer = try #require(try await replies.next())
                    #expect(String(buffer: answer.buffer) == "ack: hello")
                    #expect(answer.sender == server.localAddress)
                }
            }
        }
        // executeThenClose closed both sockets; the event loop group is not theirs and goes on.
        #expect(!server.channel.isActive)
        #expect(!client.channel.isActive)
        try await server.close()  // closing again does nothing
    }

    @Test func worksFromAnActor() async throws {
        let received = try await withTimeout { @MainActor in
            let socket = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
            return try await socket.executeThenClose { inbound, outbound in
                MainActor.assertIsolated()
                try await outbound.send(Array("self".utf8), to: socket.localAddress)
                for try await datagram in inbound { return datagram.bytes }
                return []
            }
        }
        #expect(received == Array("self".utf8))
    }

    @Test func dualStackSocketServesIPv4Peers() async throws {
        let server = try await AsyncUDPSocket.bind(to: .any(.inet6))
        let client = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
        try await withTimeout {
            try await server.executeThenClose { inbound, outbound in
                try await client.executeThenClose { clientInbound, clientOutbound in
                    try await clientOutbound.send(Array("v4".utf8), to: .loopbackV4(port: server.localAddress.port))
                    var requests = inbound.makeAsyncIterator()
                    let request = try #require(try await requests.next())
                    #expect(request.sender.isV4Mapped)
                    #expect(request.sender.unmapped == client.localAddress)
                    try await outbound.send(OutboundDatagram(replyingTo: request))

                    var replies = clientInbound.makeAsyncIterator()
                    let reply = try #require(try await replies.next())
                    #expect(reply.bytes == Array("v4".utf8))
                    #expect(reply.sender == .loopbackV4(port: server.localAddress.port))
                }
            }
        }
    }

    @Test func cancellingAPendingReceiveEndsItPromptlyAndClosesNothing() async throws {
        let socket = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0))
        let peer = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
        try await withTimeout {
            try await socket.executeThenClose { inbound, outbound in
                let clock = ContinuousClock()
                let (error, waited) = try await withThrowingTaskGroup(of: (String, Duration).self) { group in
                    group.addTask {
                        do {
                            for try await _ in inbound {}
                            return ("ended", .zero)
                        } catch {
                            return ("\(type(of: error))", .zero)
                        }
                    }
                    try await Task.sleep(for: .milliseconds(100))  // the receive is pending by now
                    let start = clock.now
                    group.cancelAll()
                    let outcome = try #require(try await group.next())
                    return (outcome.0, clock.now - start)
                }
                #expect(error == "CancellationError")
                // No datagram ever comes, so ending at all is the proof; the bound only catches a wait for one.
                // Generous: a full parallel run has paused the cooperative pool for seconds (1.036 s seen).
                #expect(waited < .seconds(10))

                // The receive loop did not own the socket: it is still open and sends.
                #expect(socket.channel.isActive)
                try await peer.executeThenClose { peerInbound, _ in
                    try await outbound.send(Array("still here".utf8), to: peer.localAddress)
                    var iterator = peerInbound.makeAsyncIterator()
                    let datagram = try #require(try await iterator.next())
                    #expect(datagram.bytes == Array("still here".utf8))
                }
            }
        }
    }

    @Test func optionsSetOnTheCoreSocketAreWhatNIOSees() async throws {
        nonisolated(unsafe) var granted = 0
        let socket = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0)) { core in
            try core.setReceiveBufferSize(1 << 20)
            try core.setReceiveDropCount(true)
            granted = try core.receiveBufferSize
        }
        #expect(granted >= 1 << 20)  // Linux doubles the request
        let seen = try await socket.channel.getOption(.socketOption(.so_rcvbuf)).get()
        #expect(Int(seen) == granted)
        #expect(try await socket.channel.getOption(.datagramVectorReadMessageCount).get() == 64)
        #expect(try await socket.channel.getOption(.maxMessagesPerRead).get() == 4)
        #expect(try await socket.kernelDropCount() == 0)
        try await socket.close()
    }

    @Test func receiveOffloadIsOnWhenConfigured() async throws {
        let socket = try await AsyncUDPSocket.bind(
            to: .loopbackV4(port: 0),
            configuration: .init(receiveOffload: true, explicitCongestionNotification: true, receivePacketInfo: true)
        )
        #expect(try await socket.channel.getOption(.datagramReceiveOffload).get())
        #expect(try await socket.channel.getOption(.explicitCongestionNotification).get())
        #expect(try await socket.channel.getOption(.receivePacketInfo).get())
        try await socket.close()
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func ecnAndPacketInfoArriveWithTheDatagram(family: AddressFamily) async throws {
        let server = try await AsyncUDPSocket.bind(
            to: loopback(family),
            configuration: .init(explicitCongestionNotification: true, receivePacketInfo: true)
        )
        let client = try await AsyncUDPSocket.bind(to: loopback(family), configuration: clientConfiguration)
        try await withTimeout {
            try await server.executeThenClose { inbound, _ in
                try await client.executeThenClose { _, outbound in
                    let datagram = OutboundDatagram(
                        ByteBuffer(string: "ect"),
                        to: server.localAddress,
                        ecn: .transportCapableFlag0
                    )
                    try await outbound.send(datagram)
                    var iterator = inbound.makeAsyncIterator()
                    let received = try #require(try await iterator.next())
                    #expect(received.ecn == .transportCapableFlag0)
                    #expect(received.destination == server.localAddress.ip)
                    #expect((received.interfaceIndex ?? 0) > 0)
                }
            }
        }
    }

    @Test(arguments: [false, true])
    func groTrainsAreSplitOrHandedOverWhole(wholeBatches: Bool) async throws {
        let server = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: .init(receiveOffload: true))
        let client = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
        // Four datagrams of 100 bytes, sent as one GSO train: 100 × "a", then "b", "c", "d".
        let train = "abcd".utf8.reduce(into: ByteBuffer()) { $0.writeRepeatingByte($1, count: 100) }
        try await withTimeout {
            try await server.executeThenClose { inbound, _ in
                try await client.executeThenClose { _, outbound in
                    try await outbound.send(OutboundDatagram(train, to: server.localAddress, segmentSize: 100))
                    var pieces: [ByteBuffer] = []
                    if wholeBatches {
                        var batches = inbound.batches.makeAsyncIterator()
                        let batch = try #require(try await batches.next())
                        let datagram = try #require(batch.first)
                        #expect(datagram.segmentSize == 100)  // loopback hands a GSO send to a GRO socket whole
                        pieces = datagram.segments
                    } else {
                        var datagrams = inbound.makeAsyncIterator()
                        while pieces.count < 4, let datagram = try await datagrams.next() {
                            #expect(datagram.segmentSize == nil)
                            #expect(datagram.sender == client.localAddress)
                            pieces.append(datagram.buffer)
                        }
                    }
                    #expect(pieces.map(\.readableBytes) == [100, 100, 100, 100])
                    #expect(pieces.map { $0.readableBytesView.first } == Array("abcd".utf8))
                }
            }
        }
    }

    @Test func batchedSendsArriveInOrder() async throws {
        let receiver = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0))
        let sender = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
        try await withTimeout {
            try await receiver.executeThenClose { inbound, _ in
                try await sender.executeThenClose { _, outbound in
                    let datagrams = (0..<200).map { OutboundDatagram(Array("\($0)".utf8), to: receiver.localAddress) }
                    try await outbound.send(contentsOf: datagrams)
                    var received: [String] = []
                    for try await datagram in inbound {
                        received.append(String(buffer: datagram.buffer))
                        if received.count == 200 { break }
                    }
                    #expect(received == (0..<200).map { "\($0)" })
                }
            }
        }
        #expect(receiver.statistics.datagramsReceived == 200)
        #expect(receiver.statistics.datagramsBuffered == 0)
    }

    @Test func oversizedDatagramsAreRefusedBeforeSending() async throws {
        let socket = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
        try await socket.executeThenClose { _, outbound in
            let tooLarge = [UInt8](repeating: 0, count: 65_508)
            await #expect(throws: UDPError.self) {
                try await outbound.send(tooLarge, to: .loopbackV4(port: 9))
            }
            do {
                try await outbound.send(contentsOf: [OutboundDatagram(tooLarge, to: .loopbackV4(port: 9))])
                Issue.record("a 65508-byte datagram to an IPv4 peer was accepted")
            } catch let error as UDPError {
                #expect(error.code == .messageTooLarge)
                #expect(error.maximumSize == 65_507)
                #expect(error.attemptedSize == 65_508)
            }
        }
    }
}

@Suite struct AsyncUDPSocketFailureTests {
    @Test func aSocketWhoseOptionsNIORefusesIsClosed() async throws {
        let address = try UDPSocket(bindingTo: .loopbackV4(port: 0)).localAddress  // a port free a moment ago
        // UDP_SEGMENT takes at most 65535: the kernel refuses this one with EINVAL after the bind succeeded.
        await #expect(throws: (any Error).self) {
            _ = try await AsyncUDPSocket.bind(to: address, configuration: .init(segmentSize: 70_000))
        }
        // Had the descriptor leaked, the port would still be taken.
        let again = try UDPSocket(bindingTo: address)
        #expect(try again.localAddress == address)
    }
}

/// SwiftNIO's datagram channel resets itself (asserts, in a debug build) when the kernel's error queue holds
/// anything, so a socket with one is refused before NIO ever sees it, with a sentence that says why.
@Suite struct ErrorQueueRefusalTests {
    @Test(arguments: ["errors", "timestamps"])
    func aSocketWithAnErrorQueueIsRefused(_ option: String) async throws {
        let error = await #expect(throws: UDPError.self) {
            _ = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0)) { socket in
                if option == "errors" { try socket.setReceiveErrors(true) } else { try socket.setSendTimestamps(true) }
            }
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.description.contains("cannot be used under SwiftNIO") == true, "\(String(describing: error))")
    }
}
