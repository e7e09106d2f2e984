import Testing
import UDP
import UDPTools

/// The reflector as a batch machine, with batches filled by hand and a send that records: no socket.
@Suite struct ReflectorMachineTests {
    let peer = SocketAddress.loopbackV4(port: 5000)
    let start = MonotonicInstant(nanoseconds: 5_000_000_000)

    /// Puts `payloads` in the reflector's receive batch as if received from `peer`, and hands them over;
    /// returns what it sent: each datagram's destination and bytes.
    func reflect(
        _ payloads: [[UInt8]],
        _ reflector: inout Reflector,
        failing: UDPError? = nil
    ) -> [(destination: SocketAddress, payload: [UInt8])] {
        reflector.withReceiveBatch { batch in
            batch.removeAll()
            for payload in payloads { payload.withUnsafeBytes { _ = batch.append($0, to: peer) } }
        }
        var sent: [(SocketAddress, [UInt8])] = []
        reflector.handleReceived(payloads.count, socket: 0, at: start) { (batch, first, _) throws(UDPError) in
            if let failing { throw failing }
            for slot in first..<batch.count { sent.append((batch.peer(at: slot), Array(batch.payload(at: slot)))) }
            return batch.count - first
        }
        return sent
    }

    @Test("without a prefix the batch goes straight back, each datagram to its sender")
    func answersInPlace() {
        var reflector = Reflector()
        let sent = reflect([[1], [2, 3]], &reflector)
        #expect(sent.map(\.payload) == [[1], [2, 3]])
        #expect(sent.allSatisfy { $0.destination == peer })
        #expect(reflector.counters.received == 2 && reflector.counters.replied == 2)
    }

    @Test("a prefix goes before every reply")
    func prefixesReplies() {
        var reflector = Reflector(prefix: Array("ack: ".utf8))
        let sent = reflect([Array("hi".utf8)], &reflector)
        #expect(sent.map(\.payload) == [Array("ack: hi".utf8)])
    }

    @Test("an empty datagram gets an empty reply behind an admission policy too (it once divided by its size)")
    func emptyDatagramWithAdmission() {
        var reflector = Reflector(admission: PeerAdmission.Policy(ratePerSecond: 100))
        let sent = reflect([[], [7]], &reflector)
        #expect(sent.map(\.payload) == [[], [7]])
        #expect(reflector.counters.replied == 2)
    }

    @Test("a reply past the datagram limit is not sent: counted failed, and told as an event")
    func replyTooLarge() throws {
        var reflector = Reflector(prefix: [UInt8](repeating: 0x61, count: 100))
        let sent = reflect([[UInt8](repeating: 0, count: 65_450)], &reflector)
        #expect(sent.isEmpty)
        #expect(reflector.counters.failed == 1)
        let polled = reflector.pollEvent()
        let event = try #require(polled)
        guard case .sendFailed(let error) = event else {
            Issue.record("not a send failure")
            return
        }
        #expect(error.code == .messageTooLarge)
    }

    @Test("a send that fails is counted and told, and the next datagram is still answered")
    func sendFailureIsCounted() {
        var reflector = Reflector()
        _ = reflect([[1]], &reflector, failing: UDPError(.send, errno: .hostUnreachable))
        #expect(reflector.counters.failed == 1 && reflector.counters.replied == 0)
        let polled = reflector.pollEvent()
        #expect(polled != nil)
        #expect(reflect([[2]], &reflector).count == 1)
    }

    @Test("reports come every interval asked for, and an ICMP error is counted by kind")
    func reportsAndDeliveryErrors() throws {
        var reflector = Reflector()
        let none = reflector.nextDeadline
        #expect(none == nil, "no timer unless reports are asked for")
        reflector.report(every: .seconds(1), from: start)
        let first = reflector.nextDeadline
        #expect(first == start + .seconds(1))
        reflector.handleTimeout(at: start + .seconds(1)) { _, _, _ in 0 }
        let second = reflector.nextDeadline
        #expect(second == start + .seconds(2))
        let polled = reflector.pollEvent()
        guard case .report = try #require(polled) else {
            Issue.record("not a report")
            return
        }
        reflector.handleDeliveryError(nil, socket: 0, at: start)
        #expect(reflector.counters.icmpErrors.total == 0, "no detail, nothing to count")
    }
}
