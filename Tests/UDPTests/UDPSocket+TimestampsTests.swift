import Testing

@testable import UDP

// Kernel timestamps on loopback: each is a wall-clock time between the test's readings of the same clock
// before and after, and the kernel's send stamp comes before its receive stamp of the same datagram.
@Suite struct UDPSocketTimestampsTests {
    /// Waits until the kernel stamps arrivals for `receiver`, whose receive timestamps are on. The first socket on
    /// the machine to ask turns stamping on through deferred work (a static key, flipped a moment later), and a
    /// datagram that arrives before is unstamped: no event says when, so this sends itself probes, up to 2 s.
    private func waitUntilArrivalsAreStamped(_ receiver: borrowing UDPSocket) throws {
        let prober = try loopbackSocket(receiver.family)
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline {
            try prober.send(bytes("probe"), to: receiver.localAddress)
            if try receiver.receive().info.timestamp != nil { return }
        }
        Issue.record("the kernel never stamped an arrival")
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func receivedDatagramsCarryTheKernelsArrivalTime(_ family: AddressFamily) throws {
        let receiver = try loopbackSocket(family)
        #expect(try receiver.receiveTimestamps == false)
        try receiver.setReceiveTimestamps(true)
        #expect(try receiver.receiveTimestamps)
        try waitUntilArrivalsAreStamped(receiver)
        let sender = try loopbackSocket(family)
        let before = WallClockTime.now()
        try sender.send(bytes("stamped"), to: receiver.localAddress)
        let datagram = try receiver.receive()
        let after = WallClockTime.now()
        let stamp = try #require(datagram.info.timestamp)
        #expect(stamp >= before && stamp <= after, "\(before) ≤ \(stamp) ≤ \(after)")

        try receiver.setReceiveTimestamps(false)
        try sender.send(bytes("plain"), to: receiver.localAddress)
        #expect(try receiver.receive().info.timestamp == nil, "off costs nothing and reports nothing")
    }

    @Test func aBatchStampsEachSlot() throws {
        let receiver = try loopbackSocket(.inet)
        try receiver.setReceiveTimestamps(true)
        try waitUntilArrivalsAreStamped(receiver)
        let sender = try loopbackSocket(.inet)
        for index in 0..<4 { try sender.send([UInt8(index)], to: receiver.localAddress) }
        var batch = DatagramBatch(capacity: 8, bufferSize: 16)
        var received = 0
        var stamps: [WallClockTime] = []
        while received < 4 {
            received += try receiver.receive(into: &batch)
            stamps += (0..<batch.count).compactMap { batch.info(at: $0).timestamp }
        }
        #expect(stamps.count == 4)
        #expect(stamps == stamps.sorted(), "in arrival order")
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func sentDatagramsAreStampedAndNumberedInOrder(_ family: AddressFamily) throws {
        let receiver = try loopbackSocket(family)
        try receiver.setReceiveTimestamps(true)
        try waitUntilArrivalsAreStamped(receiver)
        let sender = try loopbackSocket(family)
        try sender.setSendTimestamps(true)
        #expect(try sender.sendTimestamps)
        let before = WallClockTime.now()
        for index in 0..<3 { try sender.send([UInt8(index)], to: receiver.localAddress) }
        var sent: [SendTimestamp] = []
        while sent.count < 3, try sender.waitUntilReadable(timeout: receiveTimeout) {
            while case .sendTimestamp(let stamp)? = try sender.receiveErrorQueue() { sent.append(stamp) }
        }
        #expect(sent.map(\.id) == [0, 1, 2])
        for (index, stamp) in sent.enumerated() {
            let arrival = try #require(try receiver.receive().info.timestamp)
            #expect(stamp.time >= before && stamp.time <= arrival, "datagram \(index) left before it arrived")
        }
        #expect(try sender.receiveErrorQueue() == nil)
    }

    @Test func eachDirectionKeepsTheOthersSetting() throws {
        let socket = try loopbackSocket(.inet)
        try socket.setReceiveTimestamps(true)
        try socket.setSendTimestamps(true)
        try socket.setSendTimestamps(false)
        #expect(try socket.receiveTimestamps && !(try socket.sendTimestamps))
        try socket.setSendTimestamps(true)
        try socket.setReceiveTimestamps(false)
        #expect(try !socket.receiveTimestamps && socket.sendTimestamps)
    }
}
