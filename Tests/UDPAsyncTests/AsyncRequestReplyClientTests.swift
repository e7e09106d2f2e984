import Testing
import UDP
import UDPAsync
import UDPPatterns

@Suite struct AsyncRequestReplyClientTests {
    /// Patient enough that loopback never needs a retry, and retries anyway if the machine stalls.
    private static let patient = RetryPolicy(attempts: 5, timeout: .seconds(1))

    @Test(arguments: [AddressFamily.inet, .inet6])
    func twoHundredConcurrentRequestsOverOneSocketEachGetTheirOwnReply(family: AddressFamily) async throws {
        let requests = 200
        let script: @Sendable (Frame) -> [(delay: Duration, payload: [UInt8])] = { request in
            [(.zero, Array("re: ".utf8) + request.payload)]
        }
        try await withTimeout(.seconds(30)) {
            try await withScriptedServer(family, script: script) { address in
                try await withRequestReplyClient(family, policy: Self.patient) { client in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for index in 0..<requests {
                            group.addTask {
                                let reply = try await client.request(Array("request \(index)".utf8), to: address)
                                #expect(reply == Array("re: request \(index)".utf8))
                            }
                        }
                        try await group.waitForAll()
                    }
                    let counters = client.counters
                    #expect(counters.requests.completed == requests)
                    #expect(counters.requests.failed == 0)
                    #expect(client.outstandingCount == 0)
                }
            }
        }
    }

    @Test func cancellingOneRequestThrowsPromptlyWhileTheOthersComplete() async throws {
        let others = 10
        // Slow replies, so the others are still in flight when the one is cancelled; no reply to "never".
        let script: @Sendable (Frame) -> [(delay: Duration, payload: [UInt8])] = { request in
            request.payload == Array("never".utf8) ? [] : [(.milliseconds(300), request.payload)]
        }
        let policy = RetryPolicy(attempts: 3, timeout: .seconds(20))
        try await withTimeout(.seconds(60)) {
            try await withScriptedServer(script: script) { address in
                try await withRequestReplyClient(policy: policy) { client in
                    let doomed = Task { try await client.request(Array("never".utf8), to: address) }
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for index in 0..<others {
                            group.addTask {
                                let reply = try await client.request(Array("\(index)".utf8), to: address)
                                #expect(reply == Array("\(index)".utf8))
                            }
                        }
                        #expect(try await eventually { client.counters.requests.transmitted == others + 1 })
                        let clock = ContinuousClock()
                        let cancelled = clock.now
                        doomed.cancel()
                        await #expect(throws: CancellationError.self) { try await doomed.value }
                        #expect(clock.now - cancelled < .seconds(10))  // not the 20 s the attempt waits
                        try await group.waitForAll()
                    }
                    let counters = client.counters
                    #expect(counters.requests.cancelled == 1)
                    #expect(counters.requests.completed == others)
                    #expect(counters.requests.transmitted == others + 1)  // nothing resent for the cancelled one
                }
            }
        }
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func noServerGivesUpWithNoReplyAfterEveryAttempt(family: AddressFamily) async throws {
        // A bound socket nobody reads: requests vanish, and no ICMP error cuts the wait short.
        let hole = try await AsyncUDPSocket.bind(to: loopback(family), configuration: clientConfiguration)
        let policy = RetryPolicy(attempts: 3, timeout: .milliseconds(100), backoff: 2)  // waits 0.1 + 0.2 + 0.4 s
        try await withTimeout(.seconds(30)) {
            try await withRequestReplyClient(family, policy: policy) { client in
                let clock = ContinuousClock()
                let start = clock.now
                await #expect(throws: RequestError.noReply(attempts: 3)) {
                    try await client.request(Array("anyone?".utf8), to: hole.localAddress)
                }
                let elapsed = clock.now - start
                #expect(elapsed >= .milliseconds(700))
                #expect(elapsed < .seconds(15))
                let counters = client.counters
                #expect(counters.requests.transmitted == 3)
                #expect(counters.requests.retransmitted == 2)
                #expect(counters.requests.failed == 1)
            }
        }
        try await hole.close()
    }

    @Test func theOverallDeadlineCutsTheAttemptsShort() async throws {
        let hole = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
        let policy = RetryPolicy(attempts: 10, timeout: .milliseconds(100), backoff: 1, deadline: .milliseconds(250))
        try await withTimeout(.seconds(30)) {
            try await withRequestReplyClient(policy: policy) { client in
                let clock = ContinuousClock()
                let start = clock.now
                await #expect(throws: RequestError.deadlineExceeded) {
                    try await client.request(Array("anyone?".utf8), to: hole.localAddress)
                }
                #expect(clock.now - start >= .milliseconds(250))
                #expect(clock.now - start < .seconds(15))
                // At 0, 100 and 200 ms; fewer if the machine stalls past the deadline (none at all when the
                // transmit task first runs after it, as under Thread Sanitizer on a busy machine).
                #expect((0...3).contains(client.counters.requests.transmitted))
            }
        }
        try await hole.close()
    }

    @Test func duplicateAndLateRepliesAreCountedAndNeverDelivered() async throws {
        let prompt = 20
        // Every reply twice; the "late" request's reply only after its one attempt has given up. The margins
        // are seconds wide: see the note above `withTimeout` in TestSupport.swift.
        let script: @Sendable (Frame) -> [(delay: Duration, payload: [UInt8])] = { request in
            if request.payload == Array("late".utf8) { return [(.seconds(7), Array("too late".utf8))] }
            return [(.zero, request.payload), (.milliseconds(20), Array("duplicate".utf8))]
        }
        let policy = RetryPolicy(attempts: 1, timeout: .seconds(5))
        try await withTimeout(.seconds(60)) {
            try await withScriptedServer(script: script) { address in
                try await withRequestReplyClient(policy: policy) { client in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            await #expect(throws: RequestError.noReply(attempts: 1)) {
                                try await client.request(Array("late".utf8), to: address)
                            }
                        }
                        for index in 0..<prompt {
                            group.addTask {
                                let reply = try await client.request(Array("\(index)".utf8), to: address)
                                #expect(reply == Array("\(index)".utf8))  // its own, never "duplicate"
                            }
                        }
                        try await group.waitForAll()
                    }
                    #expect(
                        try await eventually {
                            let counters = client.counters.requests
                            return counters.duplicates == prompt && counters.late == 1
                        }
                    )
                    let counters = client.counters.requests
                    #expect(counters.completed == prompt)
                    #expect(counters.failed == 1)
                    #expect(counters.duplicates == prompt)
                    #expect(counters.late == 1)
                }
            }
        }
    }

    @Test func worksFromAnActor() async throws {
        let script: @Sendable (Frame) -> [(delay: Duration, payload: [UInt8])] = { [(.zero, $0.payload)] }
        let reply = try await withTimeout {
            try await withScriptedServer(script: script) { address in
                try await Self.requestOnce(Array("main".utf8), to: address)
            }
        }
        #expect(reply == Array("main".utf8))
    }

    @MainActor private static func requestOnce(
        _ payload: [UInt8],
        to address: UDP.SocketAddress
    ) async throws -> [UInt8] {
        let socket = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
        return try await socket.executeThenClose { inbound, outbound in
            try await AsyncRequestReplyClient.withClient(inbound: inbound, outbound: outbound, policy: patient) {
                client in
                MainActor.assertIsolated()
                return try await client.request(payload, to: address)
            }
        }
    }

    @Test func repliesFromAnotherAddressAreNotDelivered() async throws {
        let server = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
        let bystander = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
        let address = server.localAddress
        try await withTimeout(.seconds(30)) {
            try await server.executeThenClose { requests, replies in
                try await bystander.executeThenClose { _, forger in
                    try await withRequestReplyClient(policy: Self.patient) { client in
                        async let reply = client.request(Array("hello".utf8), to: address)
                        var received = requests.makeAsyncIterator()
                        let datagram = try #require(try await received.next())
                        let request = try Frame(decoding: datagram.bytes)
                        // Someone who learnt the request id answers first, from another address.
                        try await forger.send(
                            try replyFrame(to: request, payload: Array("forged".utf8)),
                            to: datagram.sender
                        )
                        #expect(try await eventually { client.counters.wrongSender == 1 })
                        try await replies.send(
                            try replyFrame(to: request, payload: Array("genuine".utf8)),
                            to: datagram.sender
                        )
                        #expect(try await reply == Array("genuine".utf8))
                    }
                }
            }
        }
    }
}
