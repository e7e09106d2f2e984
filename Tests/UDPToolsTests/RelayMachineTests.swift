import Testing
import UDP
import UDPTools

/// The relay's machine with fake socket numbers and a fake clock: no socket, no namespace.
@Suite struct RelayMachineTests {
    /// What the machine asked of its sockets: the ones it opened and closed, and each datagram it sent.
    final class FakeSockets {
        var opened: [Int] = []
        var closed: [Int] = []
        var failOpening = false
        /// Each datagram sent: the socket it went by, its destination (nil by a connected socket), its bytes.
        var sent: [(socket: Int, destination: SocketAddress?, payload: [UInt8])] = []

        func open() -> Result<Int, UDPError> {
            if failOpening { return .failure(UDPError(.socket, errno: .tooManyOpenFilesInSystem)) }
            opened.append(opened.count + 1)
            return .success(opened.count)
        }
    }

    let client = SocketAddress.loopbackV4(port: 4000)
    let start = MonotonicInstant(nanoseconds: 1_000_000_000)

    func machine(
        _ sockets: FakeSockets,
        up: Impairment = Impairment(),
        idleTimeout: Duration = .seconds(60),
        maxClients: Int = 1024
    ) -> RelayMachine {
        RelayMachine(
            listener: 0,
            up: up,
            idleTimeout: idleTimeout,
            maxClients: maxClients,
            openUpstream: { sockets.open() },
            closeUpstream: { sockets.closed.append($0) }
        )
    }

    /// Hands `payload`, received from `peer` on `socket`, to the machine at `now`, recording what it sends.
    func receive(
        _ payload: [UInt8],
        from peer: SocketAddress,
        on socket: Int,
        at now: MonotonicInstant,
        _ relay: inout RelayMachine,
        _ sockets: FakeSockets
    ) {
        relay.withReceiveBatch { batch in
            batch.removeAll()
            payload.withUnsafeBytes { _ = batch.append($0, to: peer) }
        }
        relay.handleReceived(1, socket: socket, at: now) { batch, start, number in
            Self.record(&batch, start, number, sockets)
        }
    }

    static func record(_ batch: inout DatagramBatch, _ start: Int, _ number: Int, _ sockets: FakeSockets) -> Int {
        for slot in start..<batch.count {
            // A slot appended for a connected socket carries the wildcard address: no destination.
            let peer = batch.peer(at: slot)
            let destination = peer == .any(.inet) ? nil : peer
            sockets.sent.append((number, destination, Array(batch.payload(at: slot))))
        }
        return batch.count - start
    }

    @Test("a client's first datagram opens its socket to the server, and the reply goes back to the client")
    func mapsAClientAndRelaysBothWays() {
        let sockets = FakeSockets()
        var relay = machine(sockets)
        receive([1, 2, 3], from: client, on: 0, at: start, &relay, sockets)
        #expect(sockets.opened == [1])
        #expect(sockets.sent.count == 1)
        #expect(
            sockets.sent[0].socket == 1 && sockets.sent[0].destination == nil && sockets.sent[0].payload == [1, 2, 3]
        )
        receive([9], from: .loopbackV4(port: 7), on: 1, at: start, &relay, sockets)
        #expect(sockets.sent.count == 2)
        #expect(sockets.sent[1].socket == 0 && sockets.sent[1].destination == client && sockets.sent[1].payload == [9])
        #expect(relay.counters.up.forwarded == 1 && relay.counters.down.forwarded == 1)
        #expect(relay.counters.activeClients == 1)
    }

    @Test("a delayed datagram waits for its deadline, and goes when the timeout comes")
    func delayWaitsForTheDeadline() throws {
        let sockets = FakeSockets()
        var relay = machine(sockets, up: Impairment(delay: .milliseconds(100)))
        receive([5], from: client, on: 0, at: start, &relay, sockets)
        #expect(sockets.sent.isEmpty)
        #expect(relay.counters.up.inFlight == 1)
        let next = relay.nextDeadline
        let due = try #require(next)
        #expect(due == start + .milliseconds(100))
        relay.handleTimeout(at: due - .milliseconds(1)) { batch, start, number in
            Self.record(&batch, start, number, sockets)
        }
        #expect(sockets.sent.isEmpty, "not before its time")
        relay.handleTimeout(at: due) { batch, start, number in Self.record(&batch, start, number, sockets) }
        #expect(sockets.sent.map(\.payload) == [[5]])
        #expect(relay.counters.up.forwarded == 1 && relay.counters.up.inFlight == 0 && relay.counters.up.delayed == 1)
    }

    @Test("an idle client's socket is closed once the idle timeout passes, and it is counted expired")
    func idleClientsExpire() throws {
        let sockets = FakeSockets()
        var relay = machine(sockets, idleTimeout: .seconds(2))
        receive([1], from: client, on: 0, at: start, &relay, sockets)
        let next = relay.nextDeadline
        let expiry = try #require(next)
        #expect(expiry > start + .seconds(2) && expiry <= start + .seconds(2) + .milliseconds(1))
        relay.handleTimeout(at: expiry) { batch, start, number in Self.record(&batch, start, number, sockets) }
        #expect(sockets.closed == [1])
        #expect(relay.counters.expiredClients == 1 && relay.counters.activeClients == 0)
        let after = relay.nextDeadline
        #expect(after == nil, "nothing left to wake for")
    }

    @Test("past --max-clients the least recently active client gives up its socket")
    func evictsTheQuietestClient() {
        let sockets = FakeSockets()
        var relay = machine(sockets, maxClients: 1)
        receive([1], from: client, on: 0, at: start, &relay, sockets)
        receive([2], from: .loopbackV4(port: 4001), on: 0, at: start + .seconds(1), &relay, sockets)
        #expect(sockets.opened == [1, 2] && sockets.closed == [1])
        #expect(relay.counters.evictedClients == 1 && relay.counters.activeClients == 1)
        // A reply on the evicted client's socket has nobody to go to.
        receive([3], from: .loopbackV4(port: 7), on: 1, at: start + .seconds(2), &relay, sockets)
        #expect(sockets.sent.map(\.socket) == [1, 2])
    }

    @Test("a client whose socket cannot be made is dropped and counted, and the relay goes on")
    func unmappedClientIsCounted() {
        let sockets = FakeSockets()
        sockets.failOpening = true
        var relay = machine(sockets)
        receive([1], from: client, on: 0, at: start, &relay, sockets)
        #expect(relay.counters.up.received == 1 && relay.counters.up.unmapped == 1)
        #expect(sockets.sent.isEmpty)
        sockets.failOpening = false
        receive([2], from: client, on: 0, at: start, &relay, sockets)
        #expect(relay.counters.up.forwarded == 1)
    }

    @Test("an ICMP error on a client's socket counts as unreachable; on the listener it is passed over")
    func deliveryErrors() {
        let sockets = FakeSockets()
        var relay = machine(sockets)
        relay.handleDeliveryError(nil, socket: 1, at: start)
        relay.handleDeliveryError(nil, socket: 0, at: start)
        #expect(relay.counters.down.unreachable == 1)
    }

    @Test("a report of the counters comes every interval asked for, and a late wake makes none up")
    func reports() throws {
        let sockets = FakeSockets()
        var relay = machine(sockets)
        relay.report(every: .seconds(1), from: start)
        let first = relay.nextDeadline
        #expect(first == start + .seconds(1))
        relay.handleTimeout(at: start + .seconds(1)) { batch, start, number in
            Self.record(&batch, start, number, sockets)
        }
        let polled = relay.pollEvent()
        let event = try #require(polled)
        guard case .report(let counters) = event else {
            Issue.record("not a report")
            return
        }
        let now = relay.counters
        let second = relay.nextDeadline
        #expect(counters == now)
        #expect(second == start + .seconds(2))
        // A wake long after its time makes up no missed report: the next is an interval on.
        relay.handleTimeout(at: start + .milliseconds(5_500)) { batch, start, number in
            Self.record(&batch, start, number, sockets)
        }
        let late = relay.nextDeadline
        #expect(late == start + .milliseconds(6_500))
    }
}
