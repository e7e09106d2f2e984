import CUDP
import NamespaceTesting
import Testing

@testable import UDP

#if canImport(Glibc)
import Glibc
#endif

/// How a server answers a received batch.
enum BatchReply: String, CaseIterable, Sendable, CustomStringConvertible {
    /// The received batch itself goes back (an RFC 862 echo).
    case straightBack
    /// Each slot is copied into a reply batch with ``DatagramBatch/appendReply(to:of:segmentSize:writing:)``.
    case appendReply
    var description: String { rawValue }
}

/// Answers every slot of `incoming` from `socket` the way `reply` says; trains stay trains.
func answer(_ incoming: inout DatagramBatch, _ reply: BatchReply, from socket: borrowing UDPSocket) throws {
    guard reply == .appendReply else { return try sendAll(&incoming, from: socket) }
    var replies = DatagramBatch(capacity: incoming.count, bufferSize: incoming.bufferSize)
    for slot in 0..<incoming.count {
        let payload = incoming.payload(at: slot)
        let added = replies.appendReply(to: slot, of: incoming, segmentSize: incoming.segmentSize(at: slot)) {
            $0.copyMemory(from: payload)
            return payload.count
        }
        #expect(added)
        #expect(replies.source(at: slot) == incoming.source(at: slot))
    }
    try sendAll(&replies, from: socket)
}

// A batch's per-slot source: taken from packet info on receive, sent as packet info, and absent (no ancillary
// data at all) when nobody asked for one.
@Suite struct DatagramBatchSourceTests {
    @Test func aSlotWithoutASourceCarriesNoAncillaryData() throws {
        let server = try loopbackSocket(.inet)
        let client = try loopbackSocket(.inet)
        try client.send(bytes("plain"), to: server.localAddress)
        var batch = DatagramBatch(capacity: 2, bufferSize: 64)
        try server.receive(into: &batch)
        #expect(batch.source(at: 0) == nil)
        _ = batch.prepareForSend(0..<1)
        #expect(batch.headers[0].msg_hdr.msg_controllen == 0, "a specific-address bind changes nothing")

        try server.setReceivePacketInfo(true)
        try client.send(bytes("with packet info"), to: server.localAddress)
        try server.receive(into: &batch)
        #expect(batch.source(at: 0) == .v4(.loopback))
        _ = batch.prepareForSend(0..<1)
        let packetInfoSpace = cudp_cmsg_space(MemoryLayout<in_pktinfo>.size)
        #expect(batch.headers[0].msg_hdr.msg_controllen == packetInfoSpace)
    }

    @Test func aTrainCarriesItsSourceAndItsSegmentSizeTogether() throws {
        var batch = DatagramBatch(capacity: 1, bufferSize: 1_000)
        let peer = SocketAddress(IPv6Address.loopback, port: 9)
        let added = batch.append(to: peer, from: .v6(.loopback), interfaceIndex: 1, segmentSize: 100) { _ in 300 }
        #expect(added)
        _ = batch.prepareForSend(0..<1)
        let expected = cudp_cmsg_space(MemoryLayout<cudp_in6_pktinfo>.size) + cudp_cmsg_space(2)
        #expect(batch.headers[0].msg_hdr.msg_controllen == expected)
        var info = ReceiveInfo(count: 0, length: 0, sender: peer, isTruncated: false)
        parseControlMessages(batch.regions.messageHeader(0), into: &info)
        #expect(info.destination == .v6(.loopback), "the packet info as written")
        #expect(info.interfaceIndex == 1)
    }

    @Test func aV4MappedPeerTakesAnIPv4Source() throws {
        var batch = DatagramBatch(capacity: 1, bufferSize: 16)
        let mapped = SocketAddress(IPv6Address(v4Mapped: .loopback), port: 9)
        let added = batch.append(UnsafeRawBufferPointer(start: nil, count: 0), to: mapped, from: .v4(.loopback))
        #expect(added)
        #expect(batch.source(at: 0) == .v4(.loopback))
        #expect(batch.packetSource(at: 0)?.interfaceIndex == 0, "no interface: routing decides")
    }

    /// A source of the other family is a bug in the caller: the append stops the program (an exit test runs it
    /// in a child process) rather than queue a datagram the kernel would refuse.
    @Test func aSourceOfTheOtherFamilyStopsTheProgram() async {
        await #expect(processExitsWith: .failure) {
            var batch = DatagramBatch(capacity: 1, bufferSize: 8)
            batch.append(to: .loopbackV4(port: 9), from: .v6(.loopback)) { _ in 1 }
        }
    }

    @Test(arguments: BatchReply.allCases)
    func aDualStackServerAnswersFromTheIPv4AddressAsked(_ reply: BatchReply) throws {
        let server = try UDPSocket(bindingTo: .any(.inet6))
        try server.setReceiveTimeout(receiveTimeout)
        try server.setReceivePacketInfo(true)
        let second = SocketAddress(IPv4Address(127, 0, 0, 2), port: try server.localAddress.port)
        let client = try connectedClient(to: second)
        try client.send(bytes("to .2"))
        var batch = DatagramBatch(capacity: 4, bufferSize: 64)
        #expect(try server.receive(into: &batch) == 1)
        #expect(batch.source(at: 0) == second.ip)
        try answer(&batch, reply, from: server)
        // Connected to 127.0.0.2, the client would drop a reply from 127.0.0.1, the kernel's own choice.
        let echoed = try #require(try client.receive(timeout: receiveTimeout))
        #expect(echoed.payload == bytes("to .2"))
    }
}

/// Batches between namespaces: B has two addresses of each family, its server is bound to a wildcard address,
/// and clients in A are connected to each address, so only replies from the address asked arrive.
@Suite(.enabled(if: isRoot, "ip netns needs root"), .enabled(if: ipCommand != nil, "needs the ip command"))
struct DatagramBatchSourceNamespaceTests {
    /// B's addresses that a server bound to the wildcard of `family` answers on (a dual-stack one: all four).
    func targets(_ pair: NamespacePair, _ family: AddressFamily) -> [IPAddress] {
        let v4: [IPAddress] = [.v4(pair.v4B), .v4(pair.v4B2)]
        return family == .inet ? v4 : [.v6(pair.v6B), .v6(pair.v6B2)] + v4
    }

    /// Four 100-byte datagrams, numbered from `seed`.
    func trainSegments(seed: Int) -> [[UInt8]] { (0..<4).map { pattern(100, seed: UInt8(seed + $0)) } }

    @Test(arguments: [AddressFamily.inet, .inet6], BatchReply.allCases)
    func aReceivedBatchIsAnsweredFromTheAddressesAsked(_ family: AddressFamily, _ reply: BatchReply) throws {
        let subnet = 26 + (family == .inet ? 0 : 2) + (reply == .straightBack ? 0 : 1)
        try withNamespacePair(subnet: subnet) { pair in
            try pair.addSecondaryAddresses()
            let server = try pair.inB { try UDPSocket(bindingTo: .any(family)) }
            try server.setReceiveTimeout(receiveTimeout)
            try server.setReceivePacketInfo(true)
            try server.setGenericReceiveOffload(true)
            let port = try server.localAddress.port
            let targets = targets(pair, family)
            let clients = try targets.map { target in
                UDPSocketBox(try pair.inA { try connectedClient(to: SocketAddress(target, port: port)) })
            }
            // From each client a single datagram, then a train of four that GSO sends and GRO keeps whole.
            var expected: [[[UInt8]]] = []
            for (index, client) in clients.enumerated() {
                let single = bytes("single \(index)")
                try client.socket.send(single)
                let segments = trainSegments(seed: 10 * index)
                var outgoing = DatagramBatch(capacity: 1, bufferSize: 1_000)
                let joined = segments.flatMap { $0 }
                let added = outgoing.append(segmentSize: 100) { buffer in
                    buffer.copyBytes(from: joined)
                    return joined.count
                }
                #expect(added)
                try client.socket.send(&outgoing)
                expected.append([single] + segments)
            }

            var incoming = DatagramBatch(capacity: 16, bufferSize: 4_096)
            var received = 0
            var trains = 0
            while received < expected.joined().count {
                let slots = try server.receive(into: &incoming)
                for slot in 0..<slots {
                    let info = incoming.info(at: slot)
                    #expect(incoming.source(at: slot) == info.destination)
                    #expect(info.destination.map(targets.contains) == true)
                    received += incoming.segmentCount(at: slot)
                    if incoming.segmentSize(at: slot) != nil { trains += 1 }
                }
                try answer(&incoming, reply, from: server)
            }
            #expect(trains > 0, "the trains reached the server whole, and went back as GSO sends")
            for ((target, client), datagrams) in zip(zip(targets, clients), expected) {
                for datagram in datagrams {
                    let echoed = try #require(try client.socket.receive(timeout: receiveTimeout), "via \(target)")
                    #expect(echoed.payload == datagram)
                }
            }
        }
    }

    @Test(arguments: [AddressFamily.inet, .inet6], [true, false])
    func eachSlotGoesOutFromItsOwnSource(_ family: AddressFamily, _ segmentationOffload: Bool) throws {
        let subnet = 30 + (family == .inet ? 0 : 2) + (segmentationOffload ? 0 : 1)
        try withNamespacePair(subnet: subnet) { pair in
            try pair.addSecondaryAddresses()
            let server = try pair.inB { try UDPSocket(bindingTo: .any(family)) }
            let port = try server.localAddress.port
            let targets = targets(pair, family)
            let clients = try targets.map { target in
                UDPSocketBox(try pair.inA { try connectedClient(to: SocketAddress(target, port: port)) })
            }
            var batch = DatagramBatch(capacity: 2 * targets.count, bufferSize: 1_000)
            // Without GSO a train goes out datagram by datagram, each still from the slot's source.
            batch.setSegmentationOffload(segmentationOffload)
            var expected: [[[UInt8]]] = []
            for (index, (target, client)) in zip(targets, clients).enumerated() {
                let peer = try client.socket.localAddress.converted(for: family)
                let single = bytes("single \(index)")
                let addedSingle = single.withUnsafeBytes { batch.append($0, to: peer, from: target) }
                #expect(addedSingle)
                let segments = trainSegments(seed: 10 * index)
                let joined = segments.flatMap { $0 }
                let addedTrain = batch.append(to: peer, from: target, segmentSize: 100) { buffer in
                    buffer.copyBytes(from: joined)
                    return joined.count
                }
                #expect(addedTrain)
                expected.append([single] + segments)
            }
            try sendAll(&batch, from: server)
            for ((target, client), datagrams) in zip(zip(targets, clients), expected) {
                for datagram in datagrams {
                    let arrived = try #require(try client.socket.receive(timeout: receiveTimeout), "via \(target)")
                    #expect(arrived.payload == datagram)
                }
            }
        }
    }
}
