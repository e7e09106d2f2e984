import Testing
import UDP
import UDPPatterns
import UDPTools

#if canImport(Glibc)
import Glibc
#endif

/// `udp send`'s plain client on loopback, run by the driver: what only a real socket shows.
@Suite struct DatagramClientLoopbackTests {
    @Test("a reply queued before the message went out is ignored as late, by its kernel stamp; the next one answers")
    func staleReplyIsLate() throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let serverAddress = try server.localAddress
        let socket = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        try socket.connect(to: serverAddress)
        try socket.setReceiveTimestamps(true)
        let clientAddress = try socket.localAddress
        // The kernel turns stamping on a moment after the first socket asks: wait until a datagram has one.
        var stamped = false
        for _ in 0..<100 where !stamped {
            try server.send([0], to: clientAddress)
            usleep(2_000)
            while let datagram = try socket.receive(timeout: .zero) {
                stamped = stamped || datagram.info.timestamp != nil
            }
        }
        try #require(stamped, "no kernel receive stamps on this system")

        try server.send(Array("stale".utf8), to: clientAddress)
        usleep(2_000)
        var client = DatagramClient(destination: serverAddress, policy: RetryPolicy(attempts: 1, timeout: .seconds(5)))
        var log: [String] = []
        let driver = MachineDriver(stop: try StopSignal())
        client.send(Array("hi".utf8))
        let first = try driver.run(&client, on: socket, until: .now() + .milliseconds(200)) { log.append("\($0)") }
        #expect(first == .deadlinePassed && !client.isFinished)
        #expect(client.counters.late == 1 && client.counters.replies == 0)

        let request = try #require(try server.receive(timeout: .seconds(1)))
        #expect(request.payload == Array("hi".utf8))
        try server.send(Array("ho".utf8), to: clientAddress)
        let second = try driver.run(&client, on: socket) { log.append("\($0)") }
        #expect(second == .finished && client.answered == true && client.counters.replies == 1)
        #expect(log.count == 3, "\(log)")
        #expect(log.first?.hasPrefix("sent(") == true && log[1].contains("late") && log[2].hasPrefix("reply("))
    }
}
