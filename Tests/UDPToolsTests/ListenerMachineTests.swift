import Testing
import UDP
import UDPPatterns
import UDPTools

/// `udp listen`'s listener as a machine, with scripted datagrams and no socket: what it counts, what it hands
/// over, and what it keeps bounded.
@Suite struct ListenerMachineTests {
    private static let now = MonotonicInstant.zero + .seconds(1)

    private static func peer(_ index: UInt32) -> SocketAddress {
        SocketAddress(IPv4Address(value: 0xC612_0000 | index), port: 4000)
    }

    /// Hands `datagram` to `listener` and takes its events, as the driver does.
    private static func deliver(_ datagram: InboundDatagram, to listener: inout Listener) -> [Listener.Event] {
        listener.handleDatagram(datagram, at: now)
        #expect(listener.pollTransmit(at: now) == nil, "a listener never sends")
        var events: [Listener.Event] = []
        while let event = listener.pollEvent() { events.append(event) }
        return events
    }

    private static func summary(_ event: Listener.Event) -> String {
        switch event {
        case .datagram(let peer, let number, let payload, let length, let isTruncated):
            "\(peer) #\(number) \(payload.count)/\(length)\(isTruncated ? " cut" : "")"
        case .rejected(let peer, _): "\(peer) rejected"
        }
    }

    @Test("each peer's datagrams are numbered on their own, and counted with their bytes")
    func perPeerCounts() {
        var listener = Listener(maximumPeers: 8)
        var lines: [String] = []
        for (index, size) in [(1, 3), (2, 5), (1, 7), (1, 1)] as [(UInt32, Int)] {
            let datagram = InboundDatagram([UInt8](repeating: 7, count: size), from: Self.peer(index))
            lines += Self.deliver(datagram, to: &listener).map(Self.summary)
        }
        #expect(
            lines == [
                "198.18.0.1:4000 #1 3/3", "198.18.0.2:4000 #1 5/5", "198.18.0.1:4000 #2 7/7", "198.18.0.1:4000 #3 1/1",
            ]
        )
        #expect(listener.peers.entries[Self.peer(1)]?.datagrams == 3)
        #expect(listener.peers.entries[Self.peer(1)]?.bytes == 11)
        #expect(listener.peers.totalDatagrams == 4)
        #expect(listener.peers.peersInOrder.map(\.peer) == [Self.peer(1), Self.peer(2)])
        #expect(listener.nextDeadline == nil && !listener.isFinished)
    }

    @Test("a flood of 1,000 sources through a table of 16: never more than 16 kept, every datagram counted")
    func thePeerTableIsBounded() {
        var listener = Listener(maximumPeers: 16)
        for index in 0..<1000 {
            let events = Self.deliver(InboundDatagram([1, 2], from: Self.peer(UInt32(index))), to: &listener)
            #expect(events.count == 1)
            #expect(listener.peers.entries.count <= 16)
        }
        #expect(listener.peers.totalDatagrams == 1000)
        #expect(listener.peers.entries.count + listener.peers.evictedPeers == 1000)
        #expect(listener.peers.evicted.bytes == 2 * listener.peers.evictedPeers)
    }

    @Test("a truncated datagram is reported with its real length, and counted by it")
    func truncation() {
        var listener = Listener(maximumPeers: 8, bufferSize: 4)
        #expect(listener.bufferSize == 4)
        let info = ReceiveInfo(count: 4, length: 10, sender: Self.peer(1), isTruncated: true)
        let datagram = InboundDatagram(payload: [1, 2, 3, 4], info: info, receivedAt: .init(nanosecondsSince1970: 0))
        #expect(Self.deliver(datagram, to: &listener).map(Self.summary) == ["198.18.0.1:4000 #1 4/10 cut"])
        #expect(listener.peers.entries[Self.peer(1)]?.bytes == 10)
    }

    @Test("an IPv4 peer of a dual-stack socket is counted and shown as IPv4")
    func mappedPeersAreUnmapped() throws {
        var listener = Listener()
        let mapped = try #require(SocketAddress("[::ffff:198.18.0.1]:4000"))
        #expect(
            Self.deliver(InboundDatagram([1], from: mapped), to: &listener).map(Self.summary) == [
                "198.18.0.1:4000 #1 1/1"
            ]
        )
        #expect(listener.peers.entries[Self.peer(1)] != nil)
    }

    @Test("events a caller never takes are bounded, and the dropped ones counted")
    func pendingEventsAreBounded() {
        var listener = Listener(maximumPeers: 8)
        for _ in 0..<100 { listener.handleDatagram(InboundDatagram([1], from: Self.peer(1)), at: Self.now) }
        #expect(listener.pendingEvents == listener.maximumPendingEvents)
        #expect(listener.droppedEvents == 100 - listener.maximumPendingEvents)
        #expect(listener.peers.totalDatagrams == 100, "counted all the same")
    }
}
