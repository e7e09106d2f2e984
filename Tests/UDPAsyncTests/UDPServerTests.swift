import Logging
import NIOCore
import ServiceLifecycle
import Testing
import UDP
import UDPAsync

@Suite struct UDPServerTests {
    /// A server whose listening address the test can wait for.
    private static func makeServer(
        configuration: AsyncUDPSocket.Configuration = .init(),
        configure: @escaping @Sendable (borrowing UDPSocket) throws -> Void = { _ in },
        handler: @escaping UDPServer.Handler
    ) -> (UDPServer, AsyncStream<UDP.SocketAddress>) {
        let (addresses, continuation) = AsyncStream.makeStream(of: UDP.SocketAddress.self)
        let server = UDPServer(
            address: .loopbackV4(port: 0),
            configuration: configuration,
            logger: testLogger,
            configure: configure,
            onListening: { address in
                continuation.yield(address)
                continuation.finish()
            },
            handler: handler
        )
        return (server, addresses)
    }

    @Test(arguments: [true, false])
    func runsInAServiceGroupAndStopsWithIt(graceful: Bool) async throws {
        let (server, addresses) = Self.makeServer { datagram in Array("ack: ".utf8) + datagram.bytes }
        let group = ServiceGroup(services: [server], logger: testLogger)
        let address = try await withTimeout {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var listening = addresses.makeAsyncIterator()
                let address = try #require(await listening.next())

                let client = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
                try await client.executeThenClose { inbound, outbound in
                    var replies = inbound.makeAsyncIterator()
                    for request in ["one", "two"] {
                        try await outbound.send(Array(request.utf8), to: address)
                        let reply = try #require(try await replies.next())
                        #expect(String(buffer: reply.buffer) == "ack: \(request)")
                        #expect(reply.sender == address)
                    }
                }

                if graceful {
                    await group.triggerGracefulShutdown()  // what SIGTERM does in a group that listens for it
                } else {
                    tasks.cancelAll()
                }
                try await tasks.next()  // run() returned
                return address
            }
        }
        // The server's socket is closed: its port can be bound again.
        let again = try UDPSocket(bindingTo: address)
        #expect(try again.localAddress == address)
    }

    @Test func gracefulShutdownAnswersWhatWasAlreadyRead() async throws {
        let (server, addresses) = Self.makeServer { datagram in
            try await Task.sleep(for: .milliseconds(20))  // slow enough that the rest wait in NIO's buffer
            return datagram.bytes
        }
        let group = ServiceGroup(services: [server], logger: testLogger)
        try await withTimeout {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var listening = addresses.makeAsyncIterator()
                let address = try #require(await listening.next())
                let client = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
                try await client.executeThenClose { inbound, outbound in
                    try await outbound.send(
                        contentsOf: (0..<5).map { OutboundDatagram(Array("\($0)".utf8), to: address) }
                    )
                    var replies = inbound.makeAsyncIterator()
                    var answered = [String(buffer: try #require(try await replies.next()).buffer)]
                    await group.triggerGracefulShutdown()
                    while answered.count < 5, let reply = try await replies.next() {
                        answered.append(String(buffer: reply.buffer))
                    }
                    #expect(answered == ["0", "1", "2", "3", "4"])
                }
                try await tasks.next()
            }
        }
    }

    @Test func aThrowingHandlerDoesNotStopTheServer() async throws {
        struct Refused: Error {}
        let (server, addresses) = Self.makeServer { datagram in
            if datagram.bytes == Array("bad".utf8) { throw Refused() }
            return datagram.bytes
        }
        try await withTimeout {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await server.run() }
                var listening = addresses.makeAsyncIterator()
                let address = try #require(await listening.next())
                let client = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
                try await client.executeThenClose { inbound, outbound in
                    try await outbound.send(Array("bad".utf8), to: address)
                    try await outbound.send(Array("good".utf8), to: address)
                    var replies = inbound.makeAsyncIterator()
                    #expect(try await replies.next()?.bytes == Array("good".utf8))
                }
                tasks.cancelAll()
                try await tasks.next()
            }
        }
    }

    @Test func groTrainsReachTheHandlerOneDatagramAtATime() async throws {
        let (server, addresses) = Self.makeServer(configuration: .init(receiveOffload: true)) { datagram in
            #expect(datagram.segmentSize == nil)
            return Array("got \(datagram.buffer.readableBytes)".utf8)
        }
        try await withTimeout {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await server.run() }
                var listening = addresses.makeAsyncIterator()
                let address = try #require(await listening.next())
                let client = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
                try await client.executeThenClose { inbound, outbound in
                    let train = ByteBuffer(repeating: 7, count: 250)  // 100 + 100 + 50
                    try await outbound.send(OutboundDatagram(train, to: address, segmentSize: 100))
                    var replies: [String] = []
                    for try await reply in inbound {
                        replies.append(String(buffer: reply.buffer))
                        if replies.count == 3 { break }
                    }
                    #expect(replies == ["got 100", "got 100", "got 50"])
                }
                tasks.cancelAll()
                try await tasks.next()
            }
        }
    }

    @Test func bindFailuresAreThrownFromRun() async throws {
        let taken = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let server = UDPServer(address: try taken.localAddress, logger: testLogger) { _ in nil }
        await #expect(throws: UDPError.self) { try await withTimeout { try await server.run() } }
    }

    /// One socket serves a thousand peers at once, and each gets its own answers.
    @Test func oneServerAnswersAThousandClients() async throws {
        let clients = 1_000
        let requestsPerClient = 3
        let (server, addresses) = Self.makeServer(
            configure: { try $0.setReceiveBufferSize(4 << 20) },
            handler: { datagram in Array("echo ".utf8) + datagram.bytes }
        )
        try await withTimeout(.seconds(20)) {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await server.run() }
                var listening = addresses.makeAsyncIterator()
                let address = try #require(await listening.next())

                let answered = try await withThrowingTaskGroup(of: Int.self) { group in
                    for id in 0..<clients {
                        group.addTask {
                            let client = try await AsyncUDPSocket.bind(
                                to: .loopbackV4(port: 0),
                                configuration: clientConfiguration
                            )
                            return try await client.executeThenClose { inbound, outbound in
                                let requests = (0..<requestsPerClient).map { "client \(id) request \($0)" }
                                try await outbound.send(
                                    contentsOf: requests.map { OutboundDatagram(Array($0.utf8), to: address) }
                                )
                                var replies: Set<String> = []
                                for try await reply in inbound {
                                    replies.insert(String(buffer: reply.buffer))
                                    if replies.count == requestsPerClient { break }
                                }
                                #expect(replies == Set(requests.map { "echo \($0)" }))
                                return replies.count
                            }
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(answered == clients * requestsPerClient)
                tasks.cancelAll()
                try await tasks.next()
            }
        }
    }
}
