import CUDP
import NamespaceTesting
import Testing

@testable import UDP

#if canImport(Glibc)
import Glibc
#endif

/// Segmentation offload: GSO trains sent, GRO trains received, and the fallback when the kernel refuses GSO.
@Suite struct UDPSocketBatchTests {
    /// A train of `count` datagrams of `size` bytes (the last `last` bytes long), each with distinct bytes.
    func train(count: Int, size: Int, last: Int? = nil) -> [[UInt8]] {
        (0..<count).map { pattern($0 == count - 1 ? (last ?? size) : size, seed: UInt8($0)) }
    }

    func appendTrain(_ segments: [[UInt8]], size: Int, to peer: SocketAddress, in batch: inout DatagramBatch) {
        let joined = segments.flatMap { $0 }
        let added = batch.append(to: peer, segmentSize: size) { buffer in
            buffer.copyBytes(from: joined)
            return joined.count
        }
        #expect(added)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func gsoTrainArrivesAsSeparateDatagrams(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let client = try loopbackSocket(family)
        let segments = train(count: 10, size: 100, last: 50)
        var batch = DatagramBatch(capacity: 4)
        appendTrain(segments, size: 100, to: try server.localAddress, in: &batch)
        let segmentCount = batch.segmentCount(at: 0)
        #expect(segmentCount == 10)
        #expect(try client.send(&batch) == 1)
        for expected in segments {
            let datagram = try server.receive()
            #expect(datagram.payload == expected)
            #expect(datagram.sender == (try client.localAddress))
        }
        let stillEnabled = batch.isSegmentationOffloadEnabled
        #expect(stillEnabled)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func groHandsOverATrainAndItGoesBackAsOne(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        try server.setGenericReceiveOffload(true)
        #expect(try server.genericReceiveOffload)
        let client = try loopbackSocket(family)
        let segments = train(count: 8, size: 64, last: 20)
        var outgoing = DatagramBatch(capacity: 1)
        appendTrain(segments, size: 64, to: try server.localAddress, in: &outgoing)
        try client.send(&outgoing)

        var incoming = DatagramBatch(capacity: 8)
        var received: [[UInt8]] = []
        while received.count < segments.count {
            let count = try server.receive(into: &incoming)
            for slot in 0..<count {
                #expect(incoming.peer(at: slot) == (try client.localAddress))
                for segment in 0..<incoming.segmentCount(at: slot) {
                    received.append(Array(incoming.segment(segment, at: slot)))
                }
            }
        }
        #expect(received == segments)
        // A GSO train sent on loopback reaches a GRO socket whole: one slot, segment size kept.
        let slots = incoming.count
        let segmentSize = incoming.segmentSize(at: 0)
        #expect(slots == 1)
        #expect(segmentSize == 64)

        // Echoed straight back, the train leaves as one GSO send and arrives as separate datagrams.
        try server.send(&incoming)
        for expected in segments { #expect(try client.receive().payload == expected) }
    }

    @Test func aTrainOfMoreThanSixtyFourIsRefusedBeforeTheKernel() throws {
        let server = try loopbackSocket(.inet)
        let client = try loopbackSocket(.inet)
        var batch = DatagramBatch(capacity: 1)
        appendTrain(train(count: 65, size: 10), size: 10, to: try server.localAddress, in: &batch)
        let error = #expect(throws: UDPError.self) { try client.send(&batch) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.description.contains("64") == true)
    }

    @Test func trainSegmentsLargerThanTheProtocolMaximumAreRefused() throws {
        let server = try loopbackSocket(.inet)
        let client = try loopbackSocket(.inet)
        var batch = DatagramBatch(capacity: 1, bufferSize: 65_535)
        let added = batch.append(to: try server.localAddress, segmentSize: 65_508) { _ in 65_510 }
        #expect(added)
        let error = #expect(throws: UDPError.self) { try client.send(&batch) }
        #expect(error?.code == .messageTooLarge)
        #expect(error?.maximumSize == 65_507)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func refusedGSOIsTurnedOffAndTheTrainStillArrives(_ family: AddressFamily) throws {
        let server = try loopbackSocket(family)
        let client = try loopbackSocket(family)
        // Without UDP checksums the kernel refuses every GSO send with EINVAL: SO_NO_CHECK (11) for IPv4,
        // UDP_NO_CHECK6_TX (101) for IPv6, whose receiver must then accept a zero checksum (UDP_NO_CHECK6_RX).
        if family == .inet {
            try client.setOption(SOL_SOCKET, 11, CInt(1))
        } else {
            try client.setOption(cudp_IPPROTO_UDP, 101, CInt(1))
            try server.setOption(cudp_IPPROTO_UDP, 102, CInt(1))
        }
        let segments = train(count: 3, size: 200, last: 7)
        var batch = DatagramBatch(capacity: 3)
        appendTrain(segments, size: 200, to: try server.localAddress, in: &batch)
        #expect(batch.append(to: try server.localAddress) { _ in 0 })  // an empty datagram after the train
        appendTrain(segments, size: 200, to: try server.localAddress, in: &batch)
        var sent = 0
        while sent < batch.count { sent += try client.send(&batch, startingAt: sent) }
        let enabled = batch.isSegmentationOffloadEnabled
        #expect(!enabled)
        for expected in segments + [[]] + segments { #expect(try server.receive().payload == expected) }
    }

    @Test(.enabled(if: isRoot, "ip netns needs root"), .enabled(if: ipCommand != nil, "needs the ip command"))
    func aTrainLargerThanTheMTUGoesOutOneByOne() throws {
        // In a namespace of its own, loopback gets an Ethernet-sized MTU; a segment that does not fit makes the
        // kernel refuse the GSO send (EMSGSIZE), and the batch must still deliver every datagram.
        try withNamespacePair(subnet: 40) { pair in
            try runIP(["-n", pair.nameA, "link", "set", "lo", "mtu", "1500"])
            let server = try pair.inA { try UDPSocket(bindingTo: .loopbackV4(port: 0)) }
            let client = try pair.inA { try UDPSocket(bindingTo: .loopbackV4(port: 0)) }
            try server.setReceiveTimeout(receiveTimeout)
            let segments = train(count: 3, size: 1_473)
            var batch = DatagramBatch(capacity: 2, bufferSize: 8_192)
            appendTrain(segments, size: 1_473, to: try server.localAddress, in: &batch)
            #expect(try client.send(&batch) == 1)
            for expected in segments { #expect(try server.receive().payload == expected) }
            let enabled = batch.isSegmentationOffloadEnabled
            #expect(enabled, "a segment size too large for the path is no reason to stop using GSO")
        }
    }
}
