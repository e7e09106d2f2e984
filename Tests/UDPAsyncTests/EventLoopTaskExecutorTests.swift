import NIOCore
import Testing
import UDP
import UDPAsync

@Suite struct EventLoopTaskExecutorTests {
    @Test func aReceiveLoopThatPrefersTheExecutorRunsOnTheSocketsEventLoop() async throws {
        let socket = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0))
        let peer = try await AsyncUDPSocket.bind(to: .loopbackV4(port: 0), configuration: clientConfiguration)
        try await withTimeout {
            try await withTaskExecutorPreference(socket.eventLoopExecutor) {
                try await socket.executeThenClose { inbound, outbound in
                    #expect(socket.eventLoop.inEventLoop)
                    try await peer.executeThenClose { peerInbound, peerOutbound in
                        try await peerOutbound.send(Array("ping".utf8), to: socket.localAddress)
                        for try await datagram in inbound {
                            #expect(socket.eventLoop.inEventLoop)  // still here after the wait
                            try await outbound.send(OutboundDatagram(replyingTo: datagram))
                            break
                        }
                        var replies = peerInbound.makeAsyncIterator()
                        #expect(try await replies.next()?.bytes == Array("ping".utf8))
                    }
                }
            }
        }
    }
}
