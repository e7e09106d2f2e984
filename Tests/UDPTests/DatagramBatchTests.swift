import Testing

@testable import UDP

@Suite struct DatagramBatchTests {
    @Test(arguments: [AddressFamily.inet, .inet6])
    func sixtyFourDatagramsEachWay(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let client = try loopbackSocket(family)
        // Room for all 64 at once whatever the default queue size.
        try server.setReceiveBufferSize(1 << 20)
        try client.setReceiveBufferSize(1 << 20)
        let serverAddress = try server.localAddress
        let clientAddress = try client.localAddress

        // Sizes 0 to 1400 bytes, each datagram starting with its number.
        let expected = (0..<64).map { pattern(($0 * 97) % 1401, seed: UInt8($0)) }
        var outgoing = DatagramBatch(capacity: 64, bufferSize: 2048)
        for payload in expected {
            #expect(payload.withUnsafeBytes { outgoing.append($0, to: serverAddress) })
        }
        #expect(outgoing.count == 64)
        try sendAll(&outgoing, from: client)

        // The server echoes each batch it receives straight back: every slot still holds sender and bytes.
        var atServer = DatagramBatch(capacity: 64, bufferSize: 2048)
        var received: [[UInt8]] = []
        while received.count < 64 {
            let count = try server.receive(into: &atServer)
            #expect(count == atServer.count)
            for slot in 0..<count {
                let info = atServer.info(at: slot)
                #expect(info.sender == clientAddress)
                #expect(atServer.peer(at: slot) == clientAddress)
                #expect(!info.isTruncated)
                #expect(info.count == info.length)
                received.append(Array(atServer.payload(at: slot)))
            }
            try sendAll(&atServer, from: server)
        }
        #expect(received == expected)

        var atClient = DatagramBatch(capacity: 64, bufferSize: 2048)
        var echoed: [[UInt8]] = []
        while echoed.count < 64 {
            let count = try client.receive(into: &atClient)
            for slot in 0..<count {
                #expect(atClient.info(at: slot).sender == serverAddress)
                echoed.append(Array(atClient.payload(at: slot)))
            }
        }
        #expect(echoed == expected)
        #expect(try !client.waitUntilReadable(timeout: .milliseconds(20)))
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func repliesGoToEachSender(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let first = try loopbackSocket(family)
        let second = try loopbackSocket(family)
        let serverAddress = try server.localAddress
        try first.send(bytes("a0"), to: serverAddress)
        try second.send(bytes("b0"), to: serverAddress)
        try first.send(bytes("a1"), to: serverAddress)

        var received = DatagramBatch(capacity: 8, bufferSize: 64)
        var replies = DatagramBatch(capacity: 8, bufferSize: 64)
        var handled = 0
        while handled < 3 {
            let count = try server.receive(into: &received)
            replies.removeAll()
            for slot in 0..<count {
                let request = Array(received.payload(at: slot))
                let added = replies.appendReply(to: slot, of: received) { buffer in
                    let reply = bytes("re:") + request
                    buffer.copyBytes(from: reply)
                    return reply.count
                }
                #expect(added)
                #expect(replies.peer(at: replies.count - 1) == received.peer(at: slot))
            }
            try sendAll(&replies, from: server)
            handled += count
        }

        for expected in ["re:a0", "re:a1"] {
            let reply = try first.receive()
            #expect(reply.payload == bytes(expected))
            #expect(reply.sender == serverAddress)
        }
        #expect(try second.receive().payload == bytes("re:b0"))
    }

    @Test func dualStackRepliesReachIPv4Clients() throws {
        let server = try UDPSocket(bindingTo: .any(.inet6))
        try server.setReceiveTimeout(receiveTimeout)
        let client = try loopbackSocket(.inet)
        try client.send(bytes("hi"), to: .loopbackV4(port: try server.localAddress.port))

        var received = DatagramBatch(capacity: 4, bufferSize: 64)
        #expect(try server.receive(into: &received) == 1)
        #expect(received.peer(at: 0).unmapped == (try client.localAddress))
        var replies = DatagramBatch(capacity: 4, bufferSize: 64)
        replies.appendReply(to: 0, of: received) { buffer in
            buffer.copyBytes(from: bytes("ho"))
            return 2
        }
        #expect(try server.send(&replies) == 1)
        #expect(try client.receive().payload == bytes("ho"))
    }

    @Test func dualStackBatchAddressesIPv4Peers() throws {
        let server = try loopbackSocket(.inet)
        let client = try UDPSocket(family: .inet6)
        let target = try server.localAddress
        #expect(target.family == .inet)
        var batch = DatagramBatch(capacity: 2, bufferSize: 16)
        bytes("v4 peer").withUnsafeBytes { _ = batch.append($0, to: target) }
        // Linux's IPv6 UDP accepts a plain sockaddr_in on a dual-stack socket.
        #expect(try client.send(&batch) == 1)
        #expect(try server.receive().payload == bytes("v4 peer"))
    }

    @Test func appendWritesInPlace() throws {
        var batch = DatagramBatch(capacity: 2, bufferSize: 8)
        let peer = SocketAddress.loopbackV6(port: 9)
        let added = batch.append(to: peer) { buffer in
            #expect(buffer.count == 8)
            buffer[0] = 1
            buffer[1] = 2
            return 2
        }
        #expect(added)
        #expect(batch.count == 1)
        #expect(Array(batch.payload(at: 0)) == [1, 2])
        #expect(batch.peer(at: 0) == peer)

        #expect(!batch.append(to: peer) { _ in -1 }, "a negative size declines")
        #expect(!batch.append(to: peer) { _ in 9 }, "more than the buffer")
        #expect(batch.count == 1)

        #expect(batch.append(to: .loopbackV4(port: 7)) { _ in 8 })
        #expect(batch.count == 2)
        #expect(batch.peer(at: 1) == .loopbackV4(port: 7))
        var called = false
        #expect(
            !batch.append(to: peer) { _ in
                called = true
                return 0
            }
        )
        #expect(!called, "a full batch asks for nothing")
    }

    @Test func appendRefusesWhatDoesNotFit() {
        var batch = DatagramBatch(capacity: 1, bufferSize: 4)
        let peer = SocketAddress.loopbackV4(port: 9)
        #expect(![UInt8](repeating: 0, count: 5).withUnsafeBytes { batch.append($0, to: peer) })
        #expect(batch.count == 0)
        #expect([UInt8](repeating: 1, count: 4).withUnsafeBytes { batch.append($0, to: peer) })
        #expect(![UInt8]([1]).withUnsafeBytes { batch.append($0, to: peer) })
        #expect(batch.count == 1)
        batch.removeAll()
        #expect(batch.count == 0)
        #expect(batch.capacity == 1)
        #expect([UInt8]([3]).withUnsafeBytes { batch.append($0, to: peer) })
        #expect(Array(batch.payload(at: 0)) == [3])
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func truncationIsReportedPerSlot(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let client = try loopbackSocket(family)
        let target = try server.localAddress
        let sizes = [10, 16, 40, 0]
        for (n, size) in sizes.enumerated() { try client.send(pattern(size, seed: UInt8(n)), to: target) }

        var batch = DatagramBatch(capacity: 8, bufferSize: 16)
        var infos: [ReceiveInfo] = []
        var payloads: [[UInt8]] = []
        while infos.count < sizes.count {
            let count = try server.receive(into: &batch)
            for slot in 0..<count {
                infos.append(batch.info(at: slot))
                payloads.append(Array(batch.payload(at: slot)))
            }
        }
        #expect(infos.map(\.count) == [10, 16, 16, 0])
        #expect(infos.map(\.length) == [10, 16, 40, 0])
        #expect(infos.map(\.isTruncated) == [false, false, true, false])
        #expect(payloads[2] == Array(pattern(40, seed: 2).prefix(16)))
        #expect(payloads[0] == pattern(10, seed: 0))
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func packetInfoIsReportedPerSlot(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        try server.setReceivePacketInfo(true)
        let client = try loopbackSocket(family)
        try client.send(bytes("1"), to: server.localAddress)
        try client.send(bytes("2"), to: server.localAddress)
        var batch = DatagramBatch(capacity: 4, bufferSize: 16)
        var seen = 0
        while seen < 2 {
            let count = try server.receive(into: &batch)
            for slot in 0..<count {
                #expect(batch.info(at: slot).destination == family.loopback)
                #expect(batch.info(at: slot).interfaceIndex == loopbackInterfaceIndex)
            }
            seen += count
        }
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func emptyQueueTimesOutOrWouldBlock(_ family: AddressFamily) throws {
        var batch = DatagramBatch(capacity: 4, bufferSize: 16)
        let blocking = try loopbackSocket(family)
        try blocking.setReceiveTimeout(.milliseconds(100))
        let timedOut = #expect(throws: UDPError.self) { try blocking.receive(into: &batch) }
        #expect(timedOut?.code == .timedOut)
        #expect(batch.count == 0)

        let nonBlocking = try loopbackSocket(family, nonBlocking: true)
        let wouldBlock = #expect(throws: UDPError.self) { try nonBlocking.receive(into: &batch) }
        #expect(wouldBlock?.code == .wouldBlock)
    }

    @Test func oversizedSlotFailsAndCanBeSkipped() throws {
        let server = try loopbackSocket(.inet)
        let client = try loopbackSocket(.inet)
        let target = try server.localAddress
        var batch = DatagramBatch(capacity: 2, bufferSize: 65_535)
        [UInt8](repeating: 0, count: 65_508).withUnsafeBytes { _ = batch.append($0, to: target) }
        bytes("small").withUnsafeBytes { _ = batch.append($0, to: target) }

        let error = #expect(throws: UDPError.self) { try client.send(&batch) }
        #expect(error?.code == .messageTooLarge)
        #expect(error?.address == target)
        #expect(error?.attemptedSize == 65_508)
        #expect(error?.maximumSize == 65_507)

        // The caller skips the datagram that failed and goes on.
        #expect(try client.send(&batch, startingAt: 1) == 1)
        #expect(try server.receive().payload == bytes("small"))
        #expect(try client.send(&batch, startingAt: 2) == 0)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func receivedSlotsIterateInOrder(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let first = try loopbackSocket(family)
        let second = try loopbackSocket(family)
        try server.setReceivePacketInfo(true)
        let target = try server.localAddress
        let sent = (0..<6).map { pattern(10 + $0, seed: UInt8($0)) }
        for (n, payload) in sent.enumerated() {
            if n.isMultiple(of: 2) { try first.send(payload, to: target) } else { try second.send(payload, to: target) }
        }
        let senders = [try first.localAddress, try second.localAddress]

        var batch = DatagramBatch(capacity: 8, bufferSize: 64)
        var payloads: [[UInt8]] = []
        var peers: [SocketAddress] = []
        while payloads.count < sent.count {
            let count = try server.receive(into: &batch)
            #expect(batch.received.count == count)
            var visited = 0
            for datagram in batch.received {
                // Each element reads the same slot as the per-index accessors.
                #expect(datagram.index == visited)
                #expect(Array(datagram.payload) == Array(batch.payload(at: datagram.index)))
                #expect(datagram.peer == batch.peer(at: datagram.index))
                #expect(datagram.info == batch.info(at: datagram.index))
                #expect(datagram.info.destination == family.loopback)
                #expect(!datagram.isTruncated)
                #expect(datagram.segmentSize == nil)
                #expect(datagram.segmentCount == 1)
                #expect(Array(datagram.segment(0)) == Array(datagram.payload))
                payloads.append(Array(datagram.payload))
                peers.append(datagram.peer)
                visited += 1
            }
            #expect(visited == count)
        }
        #expect(payloads == sent)
        #expect(peers == (0..<6).map { senders[$0 % 2] })
    }

    @Test func receivedCountsFollowTheBatch() {
        var batch = DatagramBatch(capacity: 3, bufferSize: 8)
        #expect(batch.received.isEmpty)
        #expect(batch.received.count == 0)
        let peer = SocketAddress.loopbackV4(port: 9)
        #expect([UInt8]([1, 2]).withUnsafeBytes { batch.append($0, to: peer) })
        #expect([UInt8]([3]).withUnsafeBytes { batch.append($0, to: .loopbackV6(port: 10)) })
        #expect(batch.received.count == 2)
        #expect(batch.received.indices == 0..<2)
        #expect(batch.received.map { Array($0.payload) } == [[1, 2], [3]])
        #expect(batch.received.map(\.peer) == [peer, .loopbackV6(port: 10)])
        #expect(batch.received[1].index == 1)
        #expect(batch.received.last?.payload.count == 1)
        batch.removeAll()
        #expect(batch.received.isEmpty)
        #expect(Array(batch.received).isEmpty)
    }

    @Test func aTrainSlotReportsItsSegments() {
        var batch = DatagramBatch(capacity: 2, bufferSize: 256)
        let joined = pattern(250, seed: 7)
        let added = batch.append(to: .loopbackV4(port: 9), segmentSize: 100) { buffer in
            buffer.copyBytes(from: joined)
            return joined.count
        }
        #expect(added)
        // A segment size as large as the payload is a single datagram, not a train.
        #expect(batch.append(to: .loopbackV4(port: 9), segmentSize: 100) { _ in 100 })

        let train = batch.received[0]
        #expect(train.segmentSize == 100)
        #expect(train.segmentCount == 3)
        #expect((0..<3).map { train.segment($0).count } == [100, 100, 50])
        #expect((0..<3).flatMap { Array(train.segment($0)) } == joined)
        #expect(batch.segmentCount(at: 0) == 3)
        #expect(Array(batch.segment(2, at: 0)) == Array(joined[200...]))

        let single = batch.received[1]
        #expect(single.segmentSize == nil)
        #expect(single.segmentCount == 1)
        #expect(single.segment(0).count == 100)
        #expect(batch.segmentSize(at: 1) == nil)
    }

    /// The regions of the one allocation must not overlap, whatever the sizes: odd buffer sizes and
    /// capacities leave the later regions unaligned unless each is placed on its own boundary.
    @Test(arguments: [(1, 1), (3, 7), (5, 13), (64, 1), (2, 65_535)])
    func slotsDoNotOverlap(_ capacity: Int, _ bufferSize: Int) {
        var batch = DatagramBatch(capacity: capacity, bufferSize: bufferSize)
        #expect(batch.capacity == capacity)
        #expect(batch.bufferSize == bufferSize)
        for slot in 0..<capacity {
            let added = batch.append(to: .loopbackV4(port: UInt16(slot + 1))) { buffer in
                buffer.initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: slot + 1))
                return buffer.count
            }
            #expect(added)
        }
        #expect(!batch.append(to: .loopbackV4(port: 1)) { _ in 0 }, "full")
        for datagram in batch.received {
            let expected = UInt8(truncatingIfNeeded: datagram.index + 1)
            #expect(datagram.payload.count == bufferSize)
            #expect(datagram.payload.allSatisfy { $0 == expected })
            #expect(datagram.peer == .loopbackV4(port: UInt16(datagram.index + 1)))
        }
    }

    /// Each accessor checks its index before it reads: a slot past `count` stops the program rather than hand
    /// back stale bytes (an exit test runs it in a child process).
    @Test(arguments: 0..<5)
    func readingPastTheFilledSlotsStopsTheProgram(_ accessor: Int) async {
        await #expect(processExitsWith: .failure) { [accessor] in
            var batch = DatagramBatch(capacity: 2, bufferSize: 8)
            batch.append(to: .loopbackV4(port: 9)) { _ in 1 }
            // Slot 1 has room but holds nothing: reading it is the bug the check catches.
            switch accessor {
            case 0: _ = batch.payload(at: 1)
            case 1: _ = batch.info(at: 1)
            case 2: _ = batch.segmentCount(at: 1)
            case 3: _ = batch.received[1]
            default: _ = batch.received[0].segment(1)
            }
        }
    }

    @Test func segmentationOffloadIsChangedThroughTheBatch() {
        // Read into locals: #expect cannot take a property of a non-copyable value.
        var batch = DatagramBatch(capacity: 1)
        let initially = batch.isSegmentationOffloadEnabled
        batch.setSegmentationOffload(false)
        let turnedOff = batch.isSegmentationOffloadEnabled
        batch.setSegmentationOffload(true)
        let turnedOn = batch.isSegmentationOffloadEnabled
        #expect(initially)
        #expect(!turnedOff)
        #expect(turnedOn)
    }
}

/// Sends every datagram of `batch`, calling again when the kernel stops early.
func sendAll(_ batch: inout DatagramBatch, from socket: borrowing UDPSocket) throws {
    var start = 0
    while start < batch.count {
        start += try socket.send(&batch, startingAt: start)
    }
}
