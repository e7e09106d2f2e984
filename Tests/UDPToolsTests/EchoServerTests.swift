import Synchronization
import Testing
import UDP
import UDPPatterns
import UDPTools

/// A reflector on one member's socket until `stop`: what `udp echo` runs on each.
private func reflect(_ member: EchoServer.Member, _ stop: StopSignal) throws(UDPError) -> Reflector.Counters {
    var reflector = Reflector()
    try reflector.run(member.socket.socket, until: stop)
    return reflector.counters
}

/// Sends `payload` to `address` from a socket of its own and returns the reply's sender.
private func exchange(_ payload: [UInt8], with address: SocketAddress) throws -> SocketAddress? {
    let client = try UDPSocket(family: address.family)
    try client.send(payload, to: address)
    let reply = try client.receive(timeout: .seconds(5))
    #expect(reply?.payload == payload)
    return reply?.info.sender
}

@Suite struct EchoServerTests {
    @Test("two workers share the port; the shares come in order and add up to the total")
    func workersShareThePort() throws {
        let server = try EchoServer(bindingTo: .loopbackV4(port: 0), options: .init(workers: 2))
        #expect(server.members.map(\.role) == [.worker(0), .worker(1)])
        #expect(!server.hasAddressSockets)
        #expect(try server.members[1].socket.socket.localAddress == server.address)
        let shares = Mutex<[EchoServer.Role]>([])
        let total = try withEngine(
            { stop in
                Result { () throws(UDPError) in
                    try server.run(until: stop, serve: { member throws(UDPError) in try reflect(member, stop) }) {
                        member,
                        _ in shares.withLock { $0.append(member.role) }
                    }
                }
            },
            test: {
                for index in 0..<20 { _ = try exchange([UInt8(index)], with: server.address) }
            }
        )
        #expect(try total.get().received == 20 && total.get().replied == 20)
        #expect(shares.withLock { $0 } == [.worker(0), .worker(1)])
    }

    @Test("on a wildcard address each of the host's addresses gets a socket per worker, and answers from itself")
    func addressSockets() throws {
        let loopback = InterfaceAddress(address: IPAddress("127.0.0.1")!, interfaceIndex: 1)
        let six = InterfaceAddress(address: IPAddress("::1")!, interfaceIndex: 1)
        let server = try EchoServer(
            bindingTo: .any(.inet),
            options: .init(workers: 2),
            localAddresses: [loopback, six]
        )
        #expect(
            server.members.map(\.role) == [
                .worker(0), .worker(1), .localAddress(loopback.address, worker: 0),
                .localAddress(loopback.address, worker: 1),
            ],
            "an IPv4 wildcard takes no IPv6 address"
        )
        #expect(server.hasAddressSockets)
        #expect(server.members.map(\.role.worker) == [0, 1, 0, 1])
        let perSocket = Mutex<[Int]>([])
        let total = try withEngine(
            { stop in
                Result { () throws(UDPError) in
                    try server.run(until: stop, serve: { member throws(UDPError) in try reflect(member, stop) }) {
                        _,
                        counters in perSocket.withLock { $0.append(counters.received) }
                    }
                }
            },
            test: {
                let sender = try exchange([1, 2, 3], with: .loopbackV4(port: server.address.port))
                #expect(sender == .loopbackV4(port: server.address.port))
            }
        )
        #expect(try total.get().received == 1)
        // The kernel hands it to a socket bound to 127.0.0.1, not to a wildcard one.
        #expect(perSocket.withLock { Array($0.prefix(2)) } == [0, 0])
    }

    @Test("a member that fails stops the others; its error comes after the shares before it")
    func failureStopsAll() throws {
        let server = try EchoServer(bindingTo: .loopbackV4(port: 0), options: .init(workers: 3))
        let shares = Mutex<[EchoServer.Role]>([])
        let stop = try StopSignal()
        #expect(throws: UDPError.self) {
            _ = try server.run(until: stop) { member throws(UDPError) in
                if member.role == .worker(1) { throw UDPError(.invalidArgument, .send, detail: "worker 1 fails") }
                return try reflect(member, stop)
            } share: { member, _ in
                shares.withLock { $0.append(member.role) }
            }
        }
        #expect(stop.isRequested)
        #expect(shares.withLock { $0 } == [.worker(0)])
    }

    @Test("the framed echo on the driver counts a reply too long to send, and answers the next request")
    func framedSendFailureCounted() throws {
        let socket = SharedUDPSocket(try UDPSocket(bindingTo: .loopbackV4(port: 0)))
        let address = try socket.socket.localAddress
        let server = try withEngine(
            { stop in
                Result { () throws(UDPError) in
                    var server = FramedEchoServer(
                        prefix: Array(repeating: 0x61, count: 65_000)
                    )
                    try FramedEchoServer.prepare(socket.socket)
                    var driver = MachineDriver(stop: stop)
                    driver.reportsEverySendError = true
                    try driver.run(&server, on: socket.socket) { _ in }
                    return (server.counters, server.drops[.sendFailed])
                }
            },
            test: {
                let client = try UDPSocket(family: .inet)
                // 500 bytes after a 65000-byte prefix: a frame (16 + 65500 bytes) past the IPv4 datagram limit.
                for (id, size) in [(1, 500), (2, 1)] as [(UInt64, Int)] {
                    let frame = Frame(
                        header: FrameHeader(requestID: RequestID(id)),
                        payload: Array(repeating: 1, count: size)
                    )
                    try client.send(try frame.encoded(), to: address)
                }
                let reply = try client.receive(maximumSize: 65_535, timeout: .seconds(5))
                #expect(try reply.map { try Frame(decoding: $0.payload).header.requestID } == RequestID(2))
            }
        )
        let (counters, sendFailed) = try server.get()
        #expect(counters.received == 2 && counters.replied == 1 && counters.failed == 1)
        #expect(sendFailed == 1)
    }
}
