import Testing
import UDP
import UDPPatterns

/// The patterns driven over real sockets on the loopback interface: ports picked by the kernel, every
/// receive with a time limit, one thread playing both ends so the interleaving is fixed.
@Suite(.timeLimit(.minutes(1))) struct LoopbackTests {
    /// Every receive gives up after this long, so a lost datagram fails a test instead of hanging it.
    let receiveTimeout: Duration = .seconds(2)

    func loopback(_ family: AddressFamily) -> SocketAddress {
        family == .inet ? .loopbackV4(port: 0) : .loopbackV6(port: 0)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func requestsCompleteAndRunOnceWhileEveryOtherReplyIsLost(family: AddressFamily) throws {
        let serverSocket = try UDPSocket(bindingTo: loopback(family))
        let clientSocket = try UDPSocket(bindingTo: loopback(family))
        let serverAddress = try serverSocket.localAddress
        var client = RequestReplyClient(
            policy: RetryPolicy(attempts: 10, timeout: .milliseconds(50), backoff: 1),
            generator: SeededGenerator(seed: 4)
        )
        var server = IdempotentServer<SocketAddress>(timeToLive: .seconds(30))
        var runs: [String: Int] = [:]
        var repliesMade = 0
        var expected: [RequestID: [UInt8]] = [:]
        var completed: [RequestID: [UInt8]] = [:]
        for index in 0..<20 {
            let id = try client.start(bytes("job \(index)"), now: .now())
            expected[id] = bytes("done job \(index)")
        }

        let giveUp = MonotonicInstant.now() + .seconds(20)
        while client.outstandingCount > 0 && MonotonicInstant.now() < giveUp {
            var sent = 0
            while let transmit = client.pollTransmit(now: .now()) {
                try clientSocket.send(transmit.bytes, to: serverAddress)
                sent += 1
            }
            // The server answers what was just sent, and the network loses every other reply.
            for _ in 0..<sent {
                let received = try serverSocket.receive(timeout: receiveTimeout)
                let request = try #require(received)
                let reply = server.respond(to: request.payload, from: request.sender, now: .now()) { payload in
                    let text = String(decoding: payload, as: UTF8.self)
                    runs[text, default: 0] += 1
                    return bytes("done " + text)
                }
                repliesMade += 1
                if let reply, repliesMade % 2 == 1 { try serverSocket.send(reply, to: request.sender) }
            }
            // The client takes replies until its next deadline, then lets the deadline act.
            while let deadline = client.nextDeadline, MonotonicInstant.now() < deadline {
                guard let datagram = try clientSocket.receive(timeout: deadline - .now()) else { break }
                if case .completed(let id, let payload) = client.handleDatagram(datagram.payload, now: .now()) {
                    completed[id] = payload
                }
            }
            client.handleTimeout(now: .now())
            #expect(client.pollEvent() == nil)  // nothing fails
        }

        #expect(completed == expected)
        #expect(runs.count == 20 && runs.values.allSatisfy { $0 == 1 })  // exactly once per request id
        #expect(server.counters.handled == 20)
        #expect(server.counters.servedFromCache == client.counters.retransmitted)
        #expect(client.counters.retransmitted >= 10)  // half the first replies were lost
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func framesSentOutOfOrderComeOutOfTheBufferInOrder(family: AddressFamily) throws {
        let receiver = try UDPSocket(bindingTo: loopback(family))
        let sender = try UDPSocket(bindingTo: loopback(family))
        let destination = try receiver.localAddress
        // Across the wrap, shuffled with a seed; loopback keeps the order they are sent in.
        let first: UInt32 = 0xFFFF_FFF6
        var generator = SeededGenerator(seed: 8)
        let order = (0..<20).map { first &+ UInt32($0) }.shuffled(using: &generator)
        for number in order {
            let frame = Frame(header: FrameHeader(sequence: SequenceNumber(number)), payload: bytes("#\(number)"))
            try sender.send(try frame.encoded(), to: destination)
        }
        var buffer = ReorderBuffer<[UInt8]>(capacity: 32, first: SequenceNumber(first))
        var delivered: [String] = []
        for _ in order {
            let received = try receiver.receive(timeout: receiveTimeout)
            let datagram = try #require(received)
            let frame = try Frame(decoding: datagram.payload)
            buffer.receive(frame.header.sequence, frame.payload, now: .now())
            while let payload = buffer.pollDelivery() { delivered.append(String(decoding: payload, as: UTF8.self)) }
        }
        #expect(delivered == (0..<20).map { "#\(first &+ UInt32($0))" })
        #expect(buffer.counters.reordered > 0 && buffer.counters.lost == 0)
    }

    @Test func aBinaryEncodedMessageCrossesTheLoopbackWithinItsBudget() throws {
        let receiver = try UDPSocket(bindingTo: loopback(.inet))
        let sender = try UDPSocket(bindingTo: loopback(.inet))
        let codec = BinaryCodec()
        let reading = Reading()
        let frame = Frame(header: FrameHeader(sequence: 1, requestID: RequestID(9)), payload: try codec.encode(reading))
        let datagram = try frame.encoded()
        #expect(datagram.count <= DatagramBudget.internet.bytes)
        try sender.send(datagram, to: try receiver.localAddress)
        let arrived = try receiver.receive(timeout: receiveTimeout)
        let received = try #require(arrived)
        #expect(try codec.decode(Reading.self, from: Frame(decoding: received.payload).payload) == reading)
    }
}
