import NIOCore
import Testing
import UDP
import UDPAsync

@Suite struct AsyncUDPSocketInboundTests {
    /// A consumer that does not read for a while pins at most `highWatermark` read batches; the rest of a burst
    /// waits in, then overflows, the kernel's small receive queue, and every datagram is either received or
    /// counted as dropped.
    @Test func aSlowConsumerPinsBoundedMemoryAndDropsAreCounted() async throws {
        let burst = 5_000
        let configuration = AsyncUDPSocket.Configuration(
            vectorReadMessageCount: 8,
            maxMessagesPerRead: 2,
            backpressure: .init(lowWatermark: 1, highWatermark: 2)
        )
        let server = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: configuration) { core in
            try core.setReceiveBufferSize(16_384)  // a few dozen small datagrams
            try core.setReceiveDropCount(true)
        }
        let client = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
        try await withTimeout(.seconds(10)) {
            try await client.executeThenClose { _, outbound in
                let payload = ByteBuffer(repeating: 0x55, count: 64)
                for _ in 0..<(burst / 500 - 1) {
                    try await outbound.send(
                        contentsOf: repeatElement(OutboundDatagram(payload, to: server.localAddress), count: 500)
                    )
                }
                try await outbound.send(
                    contentsOf: repeatElement(OutboundDatagram(payload, to: server.localAddress), count: 499)
                )
                // Writes leave in order, so when this one is written, the whole burst has been delivered or dropped.
                try await outbound.send(payload, to: server.localAddress)
            }
            try await Task.sleep(for: .milliseconds(100))  // nobody reads meanwhile

            let drops = try await server.kernelDropCount()
            let pinned = server.statistics
            #expect(drops > 0)
            #expect(pinned.peakBatchesBuffered <= configuration.backpressure.highWatermark)
            #expect(
                pinned.peakDatagramsBuffered <= configuration.backpressure.highWatermark
                    * configuration.maximumBatchSize
            )
            // NIO stopped reading: what it has not read still waits in the kernel's queue.
            #expect(pinned.datagramsReceived < burst - drops)

            var received = 0
            try await server.executeThenClose { inbound, _ in
                for try await _ in inbound {
                    received += 1
                    if received + drops == burst { break }
                }
            }
            #expect(received + drops == burst)
            // While the consumer reads, a batch is counted until the consumer holds it, and NIO may already have
            // read the next one by then: one batch more than NIO's own buffer can hold.
            #expect(server.statistics.peakBatchesBuffered <= configuration.backpressure.highWatermark + 1)
        }
    }
}
