import NamespaceTesting
import Synchronization
import Testing
import UDP
import UDPTools

/// Holds a socket so several can live in an array (a non-copyable struct cannot be an array element).
final class SocketBox {
    let socket: UDPSocket
    init(_ socket: consuming UDPSocket) { self.socket = socket }
}

/// A client connected to `server`: it accepts datagrams from that address only, as `dig` or any connected
/// socket does, so a reply from another address of the server's host never reaches it.
private func connectedClient(to server: SocketAddress) throws -> SocketBox {
    let socket = try UDPSocket(family: server.family)
    try socket.connect(to: server)
    return SocketBox(socket)
}

/// Runs a reflector with `prefix` on `server` while `test` talks to it; returns its counters and how many
/// trains (GRO slots) it received.
private func withReflector(
    on server: SharedUDPSocket,
    prefix: [UInt8],
    _ test: () throws -> Void
) throws -> (Reflector.Counters, trains: Int) {
    let trains = TrainCount()
    let result = try withEngine(
        { stop in
            Result { () throws(UDPError) in
                var reflector = Reflector(prefix: prefix, batchSize: 8)
                try reflector.run(
                    server.socket,
                    until: stop,
                    observe: { (batch: borrowing DatagramBatch, slots: Int) in
                        for slot in 0..<slots where batch.segmentSize(at: slot) != nil { trains.add() }
                    }
                )
                return reflector.counters
            }
        },
        test: test
    )
    return (try result.get(), trains.value.withLock { $0 })
}

private final class TrainCount: Sendable {
    let value = Mutex(0)
    func add() { value.withLock { $0 += 1 } }
}

/// Sends from `client` a single datagram and a GSO train of four, and expects each back behind `prefix`.
private func expectEchoes(_ client: borrowing UDPSocket, tag: Int, prefix: [UInt8], via target: IPAddress) throws {
    let single = Array("single \(tag)".utf8)
    let segments = (0..<4).map { segment in [UInt8](repeating: UInt8(tag * 10 + segment), count: 100) }
    try client.send(single)
    var train = DatagramBatch(capacity: 1, bufferSize: 1_000)
    let joined = segments.flatMap { $0 }
    let added = train.append(segmentSize: 100) { buffer in
        buffer.copyBytes(from: joined)
        return joined.count
    }
    #expect(added)
    try client.send(&train)
    for expected in [single] + segments {
        let reply = try #require(try client.receive(timeout: .seconds(2)), "no reply via \(target)")
        #expect(reply.payload == prefix + expected)
    }
}

@Suite struct ReflectorSourceTests {
    @Test(arguments: ["127.0.0.1", "0.0.0.0", "::1", "::"])
    func packetInfoGoesOnForAWildcardBindOnly(_ host: String) throws {
        let socket = try UDPSocket(bindingTo: SocketAddress(IPAddress(host)!, port: 0))
        let wildcard = host == "0.0.0.0" || host == "::"
        #expect(try Reflector.answerFromTheAddressAsked(on: socket) == wildcard)
        #expect(try socket.receivePacketInfo == wildcard)
    }

    @Test(arguments: [[UInt8](), Array("ack: ".utf8)])
    func aDualStackReflectorAnswersFromTheIPv4AddressAsked(prefix: [UInt8]) throws {
        let server = SharedUDPSocket(try UDPSocket(bindingTo: .any(.inet6)))
        try? server.socket.setGenericReceiveOffload(true)
        // 127.0.0.2 is this host's too, but the kernel would answer from 127.0.0.1 on its own.
        let target = IPAddress.v4(IPv4Address(127, 0, 0, 2))
        let port = try server.socket.localAddress.port
        let (counters, _) = try withReflector(on: server, prefix: prefix) {
            let client = try connectedClient(to: SocketAddress(target, port: port))
            try expectEchoes(client.socket, tag: 1, prefix: prefix, via: target)
        }
        #expect(counters.replied == 5)
        #expect(counters.failed == 0)
    }
}

/// The reflector in namespace B, bound to a wildcard address, with clients in A connected to each of B's two
/// addresses per family: only replies from the address asked arrive, for single datagrams and GSO trains,
/// straight back and through the prefixed reply batch.
@Suite(.enabled(if: isRoot, "ip netns needs root"), .enabled(if: ipCommand != nil, "needs the ip command"))
struct ReflectorSourceNamespaceTests {
    @Test(arguments: [AddressFamily.inet, .inet6], [[UInt8](), Array("ack: ".utf8)])
    func everyReplyComesFromTheAddressAsked(_ family: AddressFamily, prefix: [UInt8]) throws {
        let subnet = 50 + (family == .inet ? 0 : 2) + (prefix.isEmpty ? 0 : 1)
        try withHostPair(subnet: subnet) { pair in
            let server = SharedUDPSocket(try pair.inB { try UDPSocket(bindingTo: .any(family)) })
            try server.socket.setGenericReceiveOffload(true)
            let port = try server.socket.localAddress.port
            let targets = pair.addressesOfB(family)
            let (counters, trains) = try withReflector(on: server, prefix: prefix) {
                let clients = try targets.map { target in
                    try pair.inA { try connectedClient(to: SocketAddress(target, port: port)) }
                }
                for (tag, (target, client)) in zip(targets, clients).enumerated() {
                    try expectEchoes(client.socket, tag: tag, prefix: prefix, via: target)
                }
            }
            #expect(counters.replied == 5 * targets.count)
            #expect(counters.failed == 0)
            #expect(trains == targets.count, "each client's train reached the reflector whole")
        }
    }
}
