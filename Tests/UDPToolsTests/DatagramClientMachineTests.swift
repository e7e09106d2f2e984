import Testing
import UDP
import UDPPatterns
import UDPTools

private let server = SocketAddress(IPv4Address(198, 18, 2, 2), port: 9999)
private let stranger = SocketAddress(IPv4Address(198, 18, 2, 3), port: 9999)
private let start = MonotonicInstant.zero + .seconds(1)

/// Sends what `machine` has, reporting each datagram sent at wall-clock time `sentAt`, and returns it.
private func transmit<Machine: DatagramMachine>(
    _ machine: inout Machine,
    at now: MonotonicInstant,
    sentAt: UInt64 = 1_000
) -> [OutboundDatagram] {
    var sent: [OutboundDatagram] = []
    while let datagram = machine.pollTransmit(at: now) {
        sent.append(datagram)
        machine.handleSendReport(
            .sent(datagram, socket: 0, sentAt: .init(nanosecondsSince1970: sentAt), stampID: 0),
            at: now
        )
    }
    return sent
}

private func events<Machine: DatagramMachine>(_ machine: inout Machine) -> [Machine.Event] {
    var events: [Machine.Event] = []
    while let event = machine.pollEvent() { events.append(event) }
    return events
}

/// A datagram from `sender`, stamped by the kernel at wall-clock nanosecond `receivedAt`.
private func reply(
    _ payload: [UInt8],
    from sender: SocketAddress = server,
    receivedAt: UInt64 = 2_000
) -> InboundDatagram {
    var datagram = InboundDatagram(payload, from: sender)
    datagram.receivedAt = .init(nanosecondsSince1970: receivedAt)
    return datagram
}

/// Runs `client` with nothing answering: the instants its attempts went out, and its events.
private func unanswered(_ client: inout DatagramClient) -> ([MonotonicInstant], [DatagramClient.Event]) {
    var now = start
    var sendTimes: [MonotonicInstant] = []
    var log: [DatagramClient.Event] = []
    while !client.isFinished {
        if !transmit(&client, at: now).isEmpty { sendTimes.append(now) }
        log += events(&client)
        guard let deadline = client.nextDeadline else { break }
        // Never early: a timeout before the deadline changes nothing.
        client.handleTimeout(at: deadline - .nanoseconds(1))
        #expect(client.nextDeadline == deadline)
        now = deadline
        client.handleTimeout(at: now)
    }
    log += events(&client)
    return (sendTimes, log)
}

@Suite struct DatagramClientMachineTests {
    @Test("with nothing answering, attempts go out on the policy's schedule, then one no-reply with the total")
    func retriesOnTheSchedule() {
        var client = DatagramClient(destination: server, policy: RetryPolicy(attempts: 3, timeout: .milliseconds(100)))
        client.send([1, 2, 3])
        let (times, log) = unanswered(&client)
        #expect(times == [start, start + .milliseconds(100), start + .milliseconds(300)])
        let sent = log.compactMap { if case .sent(let size, let attempt) = $0 { (size, attempt) } else { nil } }
        #expect(sent.map(\.0) == [3, 3, 3] && sent.map(\.1) == [0, 1, 2])
        guard case .noReply(let total, let attempts) = log.last else {
            Issue.record("no no-reply: \(log)")
            return
        }
        #expect(total == .milliseconds(700) && attempts == 3)
        #expect(client.answered == false && client.failure == nil && client.counters.sent == 3)
    }

    @Test("the policy's deadline cuts the schedule short, and the total says so")
    func deadlineCutsTheSchedule() {
        let policy = RetryPolicy(attempts: 5, timeout: .milliseconds(100), deadline: .milliseconds(250))
        var client = DatagramClient(destination: server, policy: policy)
        client.send([1])
        let (times, log) = unanswered(&client)
        #expect(times == [start, start + .milliseconds(100)])
        guard case .noReply(let total, let attempts) = log.last else {
            Issue.record("no no-reply: \(log)")
            return
        }
        #expect(total == .milliseconds(250) && attempts == 2)
    }

    @Test("with full jitter, each retry's wait is drawn between the timeout and its nominal value")
    func jitteredWaits() {
        let policy = RetryPolicy(attempts: 4, timeout: .milliseconds(100), backoff: 2, jitter: .full)
        var client = DatagramClient(destination: server, policy: policy, generator: SeededGenerator(seed: 7))
        client.send([1])
        let (times, _) = unanswered(&client)
        let waits = zip(times, times.dropFirst()).map { $1 - $0 }
        #expect(waits.count == 3)
        for (wait, nominal) in zip(waits, policy.nominalWaits) {
            #expect(wait >= .milliseconds(100) && wait <= nominal + .nanoseconds(1))
        }
    }

    @Test("a reply from the destination ends the exchange, answered")
    func replyMatched() {
        var client = DatagramClient(destination: server, policy: RetryPolicy(attempts: 3, timeout: .seconds(1)))
        client.send(Array("hi".utf8))
        #expect(transmit(&client, at: start).map(\.destination) == [server])
        client.handleDatagram(reply(Array("ho".utf8)), at: start + .milliseconds(5))
        let log = events(&client)
        guard case .reply(let datagram) = log.last else {
            Issue.record("no reply: \(log)")
            return
        }
        #expect(datagram.payload == Array("ho".utf8) && datagram.sender == server)
        #expect(client.isFinished && client.answered == true && client.nextDeadline == nil)
        #expect(transmit(&client, at: start + .seconds(5)).isEmpty, "no retry after the reply")
    }

    @Test("a datagram from another address, or one the kernel stamped before the message went out, is ignored")
    func foreignAndLateRepliesIgnored() {
        var client = DatagramClient(destination: server, policy: RetryPolicy(attempts: 2, timeout: .seconds(1)))
        client.handleDatagram(reply([0]), at: start)
        client.send([1])
        _ = transmit(&client, at: start, sentAt: 1_000)
        client.handleDatagram(reply([1], from: stranger), at: start)
        client.handleDatagram(reply([2], receivedAt: 999), at: start)
        let ignored = events(&client).compactMap { event -> (SocketAddress, DatagramClient.IgnoredReason)? in
            if case .ignored(let sender, let reason) = event { (sender, reason) } else { nil }
        }
        #expect(ignored.map(\.1) == [.notAwaited, .foreignSender, .late])
        #expect(ignored.map(\.0) == [server, stranger, server])
        #expect(client.counters.late == 1 && client.counters.foreignSenders == 1 && client.counters.notAwaited == 1)
        #expect(!client.isFinished, "still waiting for the reply")
        client.handleDatagram(reply([3], receivedAt: 1_000), at: start + .milliseconds(1))
        #expect(client.answered == true)
    }

    @Test("to a group, every reply within the wait is handed over, and the attempt's wait is served in full")
    func manyRepliers() throws {
        let group = try #require(SocketAddress("239.1.2.3:5000"))
        var client = DatagramClient(
            destination: group,
            manyRepliers: true,
            policy: RetryPolicy(attempts: 3, timeout: .milliseconds(500))
        )
        client.send([1])
        _ = transmit(&client, at: start)
        client.handleDatagram(reply([1], from: server), at: start + .milliseconds(10))
        client.handleDatagram(reply([2], from: stranger), at: start + .milliseconds(20))
        #expect(!client.isFinished && client.nextDeadline == start + .milliseconds(500))
        client.handleTimeout(at: start + .milliseconds(500))
        #expect(client.isFinished && client.answered == true)
        #expect(transmit(&client, at: start + .milliseconds(500)).isEmpty, "answered: no retry")
        let senders = events(&client).compactMap { if case .reply(let datagram) = $0 { datagram.sender } else { nil } }
        #expect(senders == [server, stranger])
    }

    @Test("--no-reply: one send, finished at once")
    func sendOnly() {
        var client = DatagramClient(destination: server, policy: RetryPolicy(attempts: 3, timeout: .seconds(1)))
        client.send([1], expectReply: false)
        #expect(transmit(&client, at: start).count == 1)
        #expect(client.isFinished && client.answered == true && client.nextDeadline == nil)
    }

    @Test("an ICMP error quoting the destination ends the message; one quoting another is ignored and counted")
    func deliveryErrors() {
        var client = DatagramClient(destination: server, policy: RetryPolicy(attempts: 3, timeout: .seconds(1)))
        client.send([1])
        _ = transmit(&client, at: start)
        func refusal(_ destination: SocketAddress) -> DeliveryError {
            DeliveryError(
                origin: .icmp,
                kind: .portUnreachable,
                errno: .connectionRefused,
                offender: destination.ip,
                destination: destination
            )
        }
        client.handleDeliveryError(refusal(stranger), socket: 0, at: start)
        #expect(!client.isFinished && client.counters.ignoredDeliveryErrors == 1)
        client.handleDeliveryError(refusal(server), socket: 0, at: start)
        #expect(client.isFinished && client.answered == false)
        guard case .deliveryError(let error)? = client.failure else {
            Issue.record("no failure: \(String(describing: client.failure))")
            return
        }
        #expect(error.kind == .portUnreachable)
    }

    @Test("a send the kernel refused ends the message with its error")
    func sendFailure() {
        var client = DatagramClient(destination: server, policy: RetryPolicy(attempts: 3, timeout: .seconds(1)))
        client.send([1])
        let datagram = client.pollTransmit(at: start)!
        let error = UDPError(.send, errno: .connectionRefused)
        client.handleSendReport(.failed(datagram, socket: 0, error: error), at: start)
        #expect(client.isFinished && client.answered == false)
        guard case .socketError? = client.failure else {
            Issue.record("no failure")
            return
        }
        #expect(events(&client).isEmpty, "nothing was sent")
    }
}

/// Frames `payload` as the server's reply to request `id`.
private func framedReply(_ payload: [UInt8], to id: RequestID) -> [UInt8] {
    try! Frame(header: FrameHeader(sequence: 0, requestID: id, isReply: true), payload: payload).encoded()
}

@Suite struct FramedClientMachineTests {
    @Test("the reply is matched by request id; one to another id is ignored with its reason")
    func replyMatchedById() throws {
        var client = FramedClient(
            destination: server,
            policy: RetryPolicy(attempts: 3, timeout: .seconds(1)),
            generator: SeededGenerator(seed: 1)
        )
        let id = try client.start(Array("a".utf8), at: start)
        let sent = transmit(&client, at: start)
        #expect(sent.count == 1 && sent[0].destination == server)
        #expect(try Frame(decoding: sent[0].payload).header.requestID == id)
        client.handleDatagram(reply(framedReply([9], to: RequestID(id.rawValue &+ 1000))), at: start)
        client.handleDatagram(reply(Array("not a frame".utf8)), at: start)
        client.handleDatagram(reply(framedReply([9], to: id), from: stranger), at: start)
        #expect(!client.isFinished)
        client.handleDatagram(reply(framedReply(Array("ok a".utf8), to: id)), at: start + .milliseconds(3))
        #expect(client.isFinished)
        #expect(try client.outcome?.get() == Array("ok a".utf8))
        let log = events(&client)
        let ignored = log.compactMap { if case .ignored(let reason) = $0 { reason } else { nil } }
        #expect(ignored == [.reply(.unknown), .reply(.malformed), .foreignSender])
        #expect("\(ignored[0])" == "a reply to a request id never sent")
    }

    @Test("retries on the policy's schedule, then fails with no reply; a late reply to it is ignored as late")
    func retriesThenLate() throws {
        var client = FramedClient(destination: server, policy: RetryPolicy(attempts: 3, timeout: .milliseconds(100)))
        let id = try client.start([1], at: start)
        var now = start
        var times: [MonotonicInstant] = []
        while !client.isFinished {
            if !transmit(&client, at: now).isEmpty { times.append(now) }
            guard let deadline = client.nextDeadline else { break }
            client.handleTimeout(at: deadline - .nanoseconds(1))
            #expect(transmit(&client, at: deadline - .nanoseconds(1)).isEmpty, "never early")
            now = deadline
            client.handleTimeout(at: now)
        }
        #expect(times == [start, start + .milliseconds(100), start + .milliseconds(300)])
        let attempts = events(&client).compactMap { if case .sent(_, let attempt) = $0 { attempt } else { nil } }
        #expect(attempts == [1, 2, 3])
        guard case .failure(let failure)? = client.outcome else {
            Issue.record("no failure")
            return
        }
        #expect(failure.reason == .noReply(attempts: 3) && !failure.sawUnframedReplies)
        #expect("\(failure)" == "no reply after 3 attempts")
        // The next message: the old one's reply, now late, does not pass for it.
        try client.start([2], at: now)
        _ = transmit(&client, at: now)
        client.handleDatagram(reply(framedReply([1], to: id)), at: now)
        #expect(!client.isFinished && client.client.counters.late == 1)
        #expect(events(&client).contains { if case .ignored(.reply(.late)) = $0 { true } else { false } })
    }

    @Test("an unframed echo is named in the failure")
    func unframedEcho() throws {
        var client = FramedClient(destination: server, policy: RetryPolicy(attempts: 1, timeout: .milliseconds(100)))
        try client.start([1], at: start)
        let sent = transmit(&client, at: start)
        client.handleDatagram(reply(sent[0].payload), at: start)
        client.handleTimeout(at: start + .milliseconds(100))
        guard case .failure(let failure)? = client.outcome else {
            Issue.record("no failure")
            return
        }
        #expect(failure.sawUnframedReplies)
    }

    @Test("an ICMP error quoting the server ends the request")
    func deliveryError() throws {
        var client = FramedClient(destination: server, policy: RetryPolicy(attempts: 3, timeout: .seconds(1)))
        try client.start([1], at: start)
        _ = transmit(&client, at: start)
        let refusal = DeliveryError(
            origin: .icmp,
            kind: .portUnreachable,
            errno: .connectionRefused,
            offender: server.ip,
            destination: server
        )
        client.handleDeliveryError(refusal, socket: 0, at: start)
        #expect(client.isFinished && client.outcome == nil)
        guard case .deliveryError? = client.failure else {
            Issue.record("no failure")
            return
        }
    }
}
