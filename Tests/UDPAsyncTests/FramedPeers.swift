import NIOCore
import ServiceLifecycle
import Synchronization
import Testing
import UDP
import UDPAsync
import UDPPatterns

/// Counts per key from any task: how often a handler ran for each request.
final class Tally: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func add(_ key: String) { counts.withLock { $0[key, default: 0] += 1 } }
    var snapshot: [String: Int] { counts.withLock { $0 } }
}

/// The reply frame a framed server sends for `request`: its id and sequence number, marked as a reply.
func replyFrame(to request: Frame, payload: [UInt8]) throws -> [UInt8] {
    let header = FrameHeader(sequence: request.header.sequence, requestID: request.header.requestID, isReply: true)
    return try Frame(header: header, payload: payload).encoded()
}

/// Runs `body` with an ``IdempotentUDPServer`` listening on `127.0.0.1:0`, in a service group that is cancelled
/// when `body` returns.
func withIdempotentServer<T: Sendable>(
    handler: @escaping IdempotentUDPServer.Handler,
    _ body: @escaping @Sendable (IdempotentUDPServer, UDP.SocketAddress) async throws -> T
) async throws -> T {
    let (addresses, continuation) = AsyncStream.makeStream(of: UDP.SocketAddress.self)
    let server = IdempotentUDPServer(
        address: .loopbackV4(port: 0),
        logger: testLogger,
        configure: { try $0.setReceiveBufferSize(1 << 20) },
        onListening: { address in
            continuation.yield(address)
            continuation.finish()
        },
        handler: handler
    )
    return try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask {
            try await ServiceGroup(services: [server], logger: testLogger).run()
            return nil
        }
        defer { tasks.cancelAll() }
        var listening = addresses.makeAsyncIterator()
        let address = try #require(await listening.next())
        return try await body(server, address)
    }
}

/// Runs `body` with an ``AsyncRequestReplyClient`` on its own socket on `family`'s loopback address.
func withRequestReplyClient<T: Sendable>(
    _ family: AddressFamily = .inet,
    policy: RetryPolicy,
    _ body: (AsyncRequestReplyClient) async throws -> T
) async throws -> T {
    let socket = try await AsyncUDPSocket.bind(to: loopback(family)) { try $0.setReceiveBufferSize(1 << 20) }
    return try await socket.executeThenClose { inbound, outbound in
        let result = try await AsyncRequestReplyClient.withClient(
            inbound: inbound,
            outbound: outbound,
            policy: policy,
            body
        )
        // The client's scope has ended, but the socket is its owner's until executeThenClose returns.
        #expect(socket.channel.isActive)
        return result
    }
}

/// A scripted framed server: for each request, `script` says what to send back and after how long. Serves on
/// `family`'s loopback address until `body` returns.
func withScriptedServer<T: Sendable>(
    _ family: AddressFamily = .inet,
    script: @escaping @Sendable (_ request: Frame) -> [(delay: Duration, payload: [UInt8])],
    _ body: @escaping @Sendable (UDP.SocketAddress) async throws -> T
) async throws -> T {
    let socket = try await AsyncUDPSocket.bind(to: loopback(family)) { try $0.setReceiveBufferSize(1 << 20) }
    let address = socket.localAddress
    return try await socket.executeThenClose { inbound, outbound in
        try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await withThrowingDiscardingTaskGroup { replies in
                    for try await datagram in inbound {
                        guard let request = try? Frame(decoding: datagram.bytes) else { continue }
                        for (delay, payload) in script(request) {
                            let reply = try replyFrame(to: request, payload: payload)
                            let peer = datagram.sender
                            replies.addTask {
                                if delay > .zero { try await Task.sleep(for: delay) }
                                try await outbound.send(reply, to: peer)
                            }
                        }
                    }
                }
                return nil
            }
            defer { tasks.cancelAll() }
            return try await body(address)
        }
    }
}

/// A relay between one client and `server` that drops the first reply for each request id, as a lossy network
/// would: every request then completes only through a retry. Runs until `body` returns.
func withReplyDroppingRelay<T: Sendable>(
    to server: UDP.SocketAddress,
    _ body: @escaping @Sendable (UDP.SocketAddress) async throws -> T
) async throws -> T {
    let socket = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0)) { try $0.setReceiveBufferSize(1 << 20) }
    let address = socket.localAddress
    return try await socket.executeThenClose { inbound, outbound in
        try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                var client: UDP.SocketAddress?
                var repliedTo: Set<RequestID> = []
                for try await datagram in inbound {
                    guard datagram.sender == server else {
                        client = datagram.sender
                        try await outbound.send(datagram.buffer, to: server)
                        continue
                    }
                    guard let client, let id = try Frame(decoding: datagram.bytes).header.requestID else { continue }
                    if repliedTo.insert(id).inserted { continue }  // the first reply is lost
                    try await outbound.send(datagram.buffer, to: client)
                }
                return nil
            }
            defer { tasks.cancelAll() }
            return try await body(address)
        }
    }
}

/// Polls `condition` every 10 ms, at most `limit` long: for counters that change after a reply was handled.
func eventually(_ limit: Duration = .seconds(20), _ condition: () -> Bool) async throws -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + limit
    while clock.now < end {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
