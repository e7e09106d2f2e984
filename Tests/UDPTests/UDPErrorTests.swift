import Testing

@testable import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite struct UDPErrorTests {
    @Test(arguments: [AddressFamily.inet, .inet6])
    func bindConflictReadsLikeGo(_ family: AddressFamily) throws {
        let first = try loopbackSocket(family)
        let taken = try first.localAddress
        let error = #expect(throws: UDPError.self) { _ = try UDPSocket(bindingTo: taken) }
        #expect(error?.code == .system)
        #expect(error?.operation == .bind)
        #expect(error?.errno == .addressInUse)
        #expect(error?.address == taken)
        let host = family == .inet ? "127.0.0.1" : "[::1]"
        #expect(error?.description == "bind \(host):\(taken.port): address already in use")
    }

    @Test(arguments: [
        (Errno.connectionRefused, UDPError.Code.connectionRefused),
        (.messageTooLong, .messageTooLarge),
        (.noSuchDevice, .unknownInterface),
        (.addressInUse, .system),
        (.wouldBlock, .system),
        (.permissionDenied, .system),
    ])
    func classifiesErrnos(_ errno: Errno, _ code: UDPError.Code) {
        let error = UDPError(.send, errno: errno, address: .loopbackV4(port: 9))
        #expect(error.code == code)
        #expect(error.errno == errno)
        #expect(error.address == .loopbackV4(port: 9))
        #expect(error.operation == .send)
    }

    @Test func describesEachShape() {
        #expect(UDPError(.timedOut, .receive, errno: .wouldBlock).description == "receive: timed out")
        #expect(UDPError(.wouldBlock, .receive).description == "receive: wouldBlock")
        #expect(
            UDPError(.connect, errno: .connectionRefused, address: .loopbackV6(port: 7)).description
                == "connect [::1]:7: connection refused"
        )
        var broadcast = UDPError(
            .send,
            errno: .permissionDenied,
            address: SocketAddress(IPv4Address.broadcast, port: 9)
        )
        broadcast.detail = "sending to a broadcast address needs SO_BROADCAST"
        #expect(
            broadcast.description
                == "send 255.255.255.255:9: permission denied (sending to a broadcast address needs SO_BROADCAST)"
        )
    }

    @Test(arguments: [UDPError.Operation.parse, .resolve, .interface])
    func inputErrorsAreTheirOwnSentence(_ operation: UDPError.Operation) {
        // These quote the text that was wrong; prefixing the operation would only repeat it.
        #expect(UDPError(.invalidAddress, operation, detail: "'x' needs a port").description == "'x' needs a port")
        // With an errno they take the usual shape.
        var withErrno = UDPError(.nameResolution, operation, detail: "'x'")
        withErrno.errno = .noBufferSpace
        #expect(withErrno.description == "\(operation): \(Errno.noBufferSpace) ('x')")
    }

    @Test func describesOversizedDatagrams() {
        var error = UDPError(.messageTooLarge, .send, address: .loopbackV4(port: 9))
        error.attemptedSize = 65_508
        error.maximumSize = 65_507
        error.detail = "the IPv4 maximum"
        #expect(
            error.description
                == "send 127.0.0.1:9: datagram of 65508 bytes is larger than the maximum of 65507 bytes (the IPv4 maximum)"
        )

        var path = UDPError(.send, errno: .messageTooLong)
        path.attemptedSize = 1473
        path.maximumSize = 1472
        path.pathMTU = 1500
        #expect(
            path.description == "send: datagram of 1473 bytes is larger than the maximum of 1472 bytes (path MTU 1500)"
        )

        var unknown = UDPError(.send, errno: .messageTooLong)
        unknown.attemptedSize = 9000
        #expect(unknown.description == "send: datagram of 9000 bytes is larger than the path allows")

        // Without sizes it is an ordinary errno message.
        #expect(UDPError(.send, errno: .messageTooLong).description == "send: message too long")
    }

    @Test func isHashableAndComparable() {
        let a = UDPError(.bind, errno: .addressInUse, address: .loopbackV4(port: 1))
        let b = UDPError(.bind, errno: .addressInUse, address: .loopbackV4(port: 1))
        let c = UDPError(.bind, errno: .addressInUse, address: .loopbackV4(port: 2))
        #expect(a == b)
        #expect(a != c)
        #expect(Set([a, b, c]).count == 2)
        #expect(UDPError.Code.timedOut.description == "timedOut")
        #expect(UDPError.Operation.getOption.description == "getsockopt")
    }
}
