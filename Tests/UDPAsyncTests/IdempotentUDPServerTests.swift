import Testing
import UDP
import UDPAsync
import UDPPatterns

@Suite struct IdempotentUDPServerTests {
    /// Every first reply is lost on the way back, so every request completes only through a retry; the server
    /// answers the retries from its cache, and the handler runs once per request.
    @Test func lostRepliesAreRetriedAndTheHandlerRunsOncePerRequest() async throws {
        let requests = 50
        let tally = Tally()
        // Six attempts from 0.5 s, doubling: over 30 s before a request gives up (see TestSupport.swift).
        let policy = RetryPolicy(attempts: 6, timeout: .milliseconds(500), jitter: .full)
        try await withTimeout(.seconds(60)) {
            try await withIdempotentServer(handler: { request, _ in
                tally.add(String(decoding: request, as: UTF8.self))
                return Array("done: ".utf8) + request
            }) { server, address in
                try await withReplyDroppingRelay(to: address) { relay in
                    try await withRequestReplyClient(policy: policy) { client in
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            for index in 0..<requests {
                                group.addTask {
                                    let reply = try await client.request(Array("debit \(index)".utf8), to: relay)
                                    #expect(reply == Array("done: debit \(index)".utf8))
                                }
                            }
                            try await group.waitForAll()
                        }
                        let counters = client.counters.requests
                        #expect(counters.completed == requests)
                        #expect(counters.retransmitted >= requests)
                    }
                }
                #expect(tally.snapshot == Dictionary(uniqueKeysWithValues: (0..<requests).map { ("debit \($0)", 1) }))
                #expect(server.counters.handled == requests)
                #expect(server.counters.servedFromCache >= requests)
            }
        }
    }

    @Test func datagramsThatAreNotFramedRequestsGetNoAnswer() async throws {
        try await withTimeout {
            try await withIdempotentServer(handler: { request, _ in request }) { server, address in
                let client = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
                try await client.executeThenClose { inbound, outbound in
                    try await outbound.send(Array("not a frame".utf8), to: address)
                    let request = Frame(header: FrameHeader(requestID: RequestID(7)), payload: Array("hi".utf8))
                    try await outbound.send(try request.encoded(), to: address)
                    var replies = inbound.makeAsyncIterator()
                    // The framed request's reply is the first and only one.
                    let reply = try Frame(decoding: try #require(try await replies.next()).bytes)
                    #expect(reply.header.isReply)
                    #expect(reply.header.requestID == RequestID(7))
                    #expect(reply.payload == Array("hi".utf8))
                }
                #expect(server.counters.malformed == 1)
                #expect(server.counters.handled == 1)
            }
        }
    }
}
