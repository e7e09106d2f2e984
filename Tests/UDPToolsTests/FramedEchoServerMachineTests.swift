import Testing
import UDP
import UDPPatterns
import UDPTools

private let client = SocketAddress(IPAddress("198.18.0.2")!, port: 40_000)
private let other = SocketAddress(IPAddress("198.18.0.3")!, port: 40_001)
/// Any fixed instant: the cache's clock only measures differences from it.

/// A framed request with `id` and `payload`, as `udp send --framed` sends it.
private func request(_ id: UInt64, _ payload: String, sequence: UInt32 = 1) throws -> [UInt8] {
    try Frame(header: FrameHeader(sequence: .init(sequence), requestID: RequestID(id)), payload: Array(payload.utf8))
        .encoded()
}

/// What the driver would do after an input: send every reply (reporting it sent), take every event.
private func drain(
    _ server: inout FramedEchoServer,
    at now: MonotonicInstant,
    failing: Bool = false
) -> (replies: [OutboundDatagram], events: [FramedEchoServer.Event]) {
    var replies: [OutboundDatagram] = []
    while let reply = server.pollTransmit(at: now) {
        replies.append(reply)
        let report: SendReport =
            failing
            ? .failed(reply, socket: reply.socket, error: UDPError(.invalidArgument, .send))
            : .sent(reply, socket: reply.socket, sentAt: .init(nanosecondsSince1970: 0), stampID: 0)
        server.handleSendReport(report, at: now)
    }
    var events: [FramedEchoServer.Event] = []
    while let event = server.pollEvent() { events.append(event) }
    return (replies, events)
}

/// The reply's payload, decoded.
private func payload(_ reply: OutboundDatagram) throws -> String {
    let frame = try Frame(decoding: reply.payload)
    #expect(frame.header.isReply)
    return String(decoding: frame.payload, as: UTF8.self)
}

@Suite struct FramedEchoServerMachineTests {
    @Test("a framed request is answered with the prefix, to its sender, from the address it was sent to")
    func answers() throws {
        var server = FramedEchoServer(prefix: Array("ack: ".utf8))
        var datagram = InboundDatagram(try request(7, "hi"), from: client, socket: 2)
        datagram.info.replySource = IPAddress("198.18.0.1")!
        datagram.info.interfaceIndex = 3
        server.handleDatagram(datagram, at: .zero)
        let (replies, events) = drain(&server, at: .zero)
        #expect(replies.count == 1)
        #expect(try payload(replies[0]) == "ack: hi")
        #expect(replies[0].destination == client)
        #expect(replies[0].source == IPAddress("198.18.0.1")!)
        #expect(replies[0].interfaceIndex == nil, "the interface only for a link-local source")
        #expect(replies[0].socket == 2, "answered on the socket it came in on")
        guard case .answered(let peer, let size) = events.first else {
            Issue.record("no answer event")
            return
        }
        #expect(peer == client && size == datagram.payload.count)
        #expect(server.counters.received == 1 && server.counters.replied == 1 && server.counters.failed == 0)
        #expect(server.nextDeadline == nil, "without reports it needs no timer")
    }

    @Test("a link-local source takes the interface the request arrived on")
    func linkLocalSource() throws {
        var server = FramedEchoServer()
        var datagram = InboundDatagram(try request(1, "x"), from: SocketAddress(IPAddress("fe80::2")!, port: 9))
        datagram.info.replySource = IPAddress("fe80::1")!
        datagram.info.interfaceIndex = 4
        server.handleDatagram(datagram, at: .zero)
        #expect(drain(&server, at: .zero).replies.first?.interfaceIndex == 4)
    }

    @Test("a retry within 30 s is answered from the cache; after 30 s, or from another peer, the handler runs again")
    func replyCacheTimings() throws {
        var server = FramedEchoServer()
        var now = MonotonicInstant.zero + .seconds(5)
        for (peer, step, handled, fromCache) in [
            (client, Duration.zero, 1, 0), (client, .seconds(29), 1, 1), (other, .zero, 2, 1),
            (client, .seconds(2), 3, 1),
        ] {
            now += step
            server.handleDatagram(InboundDatagram(try request(9, "once"), from: peer), at: now)
            let (replies, _) = drain(&server, at: now)
            #expect(try replies.map(payload) == ["once"])
            #expect(server.cacheCounters.handled == handled && server.cacheCounters.servedFromCache == fromCache)
        }
        #expect(server.cachedReplies == 2)
    }

    @Test("what is not a framed request gets no reply, an event, and a count by reason")
    func notFramed() throws {
        var server = FramedEchoServer()
        let reply = try Frame(header: FrameHeader(requestID: RequestID(1), isReply: true), payload: []).encoded()
        let noID = try Frame(header: FrameHeader(), payload: [1]).encoded()
        for garbage in [Array("hello".utf8), [], reply, noID] {
            server.handleDatagram(InboundDatagram(garbage, from: client), at: .zero)
            let (replies, events) = drain(&server, at: .zero)
            #expect(replies.isEmpty)
            guard case .notFramed(let peer) = events.first else {
                Issue.record("no event for \(garbage)")
                continue
            }
            #expect(peer == client)
        }
        #expect(server.counters.received == 4 && server.counters.failed == 4 && server.counters.replied == 0)
        #expect(server.drops[.notFramed] == 4)
        #expect(server.cacheCounters.malformed == 4)
    }

    @Test("a reply the kernel refuses is counted failed, and the next request is still answered")
    func sendFailure() throws {
        var server = FramedEchoServer()
        server.handleDatagram(InboundDatagram(try request(1, "a"), from: client), at: .zero)
        #expect(drain(&server, at: .zero, failing: true).replies.count == 1)
        server.handleDatagram(InboundDatagram(try request(2, "b"), from: client), at: .zero)
        #expect(drain(&server, at: .zero).replies.count == 1)
        #expect(server.counters.replied == 1 && server.counters.failed == 1)
        #expect(server.drops[.sendFailed] == 1)
        #expect(server.repliesInFlight == 0)
    }

    @Test("a caller that never polls holds at most 64 replies and 64 events; the rest are counted, not kept")
    func bounded() throws {
        var server = FramedEchoServer()
        for id in 0..<200 {
            server.handleDatagram(InboundDatagram(try request(UInt64(id), "x"), from: client), at: .zero)
        }
        #expect(server.queuedReplies == FramedEchoServer.queueLimit)
        #expect(server.queuedEvents == FramedEchoServer.queueLimit)
        #expect(server.drops[.queueFull] == 200 - FramedEchoServer.queueLimit)
        let (replies, events) = drain(&server, at: .zero)
        #expect(replies.count == FramedEchoServer.queueLimit && events.count == FramedEchoServer.queueLimit)
        #expect(server.counters.received == server.counters.replied + server.counters.failed)
    }

    @Test("--stats: a report every second from the start, never early, one however late the wake")
    func reports() throws {
        let start = MonotonicInstant.zero + .seconds(100)
        var server = FramedEchoServer(reportInterval: .seconds(1), start: start)
        #expect(server.nextDeadline == start + .seconds(1))
        server.handleTimeout(at: start + .milliseconds(999))
        #expect(drain(&server, at: start).events.isEmpty, "not due yet")
        server.handleDatagram(InboundDatagram(try request(1, "a"), from: client), at: start + .milliseconds(500))
        _ = drain(&server, at: start + .milliseconds(500))
        server.handleTimeout(at: start + .seconds(1))
        let events = drain(&server, at: start + .seconds(1)).events
        guard events.count == 1, case .report(let counters, let cache) = events[0] else {
            Issue.record("expected one report, got \(events)")
            return
        }
        #expect(counters.received == 1 && counters.replied == 1 && cache.handled == 1)
        #expect(server.nextDeadline == start + .seconds(2))
        // A wake 3.5 s late gives one report, and the next deadline is in the future again.
        server.handleTimeout(at: start + .milliseconds(5_500))
        #expect(drain(&server, at: start + .milliseconds(5_500)).events.count == 1)
        #expect(server.nextDeadline == start + .seconds(6))
    }
}
