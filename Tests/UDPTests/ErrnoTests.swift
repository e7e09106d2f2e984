import Testing

@testable import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite struct ErrnoTests {
    @Test func namesMatchTheCValues() {
        #expect(Errno.interrupted.rawValue == EINTR)
        #expect(Errno.wouldBlock.rawValue == EAGAIN)
        #expect(Errno.wouldBlock.rawValue == EWOULDBLOCK)
        #expect(Errno.addressInUse.rawValue == EADDRINUSE)
        #expect(Errno.addressNotAvailable.rawValue == EADDRNOTAVAIL)
        #expect(Errno.connectionRefused.rawValue == ECONNREFUSED)
        #expect(Errno.messageTooLong.rawValue == EMSGSIZE)
        #expect(Errno.permissionDenied.rawValue == EACCES)
        #expect(Errno.notPermitted.rawValue == EPERM)
        #expect(Errno.invalidArgument.rawValue == EINVAL)
        #expect(Errno.notConnected.rawValue == ENOTCONN)
        #expect(Errno.noSuchDevice.rawValue == ENODEV)
        #expect(Errno.protocolNotAvailable.rawValue == ENOPROTOOPT)
    }

    @Test(arguments: [
        (EADDRINUSE, "address already in use"),
        (ECONNREFUSED, "connection refused"),
        (EACCES, "permission denied"),
        (EMSGSIZE, "message too long"),
        (EIO, "input/output error"),
    ])
    func describesItselfInLowerCase(_ code: CInt, _ message: String) {
        #expect(Errno(rawValue: code).description == message)
    }

    @Test func unknownNumbersStillDescribeThemselves() {
        let description = Errno(rawValue: 9999).description
        #expect(description.contains("9999"))
        #expect(description.first?.isLowercase == true)
    }

    @Test func readsTheThreadsErrno() {
        errno = ENOTCONN
        #expect(Errno.current == .notConnected)
        errno = 0
    }

    @Test func matchesInCatchClauses() {
        let udpError = UDPError(.bind, errno: .addressInUse)
        #expect(Errno.addressInUse ~= udpError)
        #expect(!(Errno.connectionRefused ~= udpError))
        #expect(Errno.addressInUse ~= Errno.addressInUse)
        #expect(!(Errno.addressInUse ~= UDPError(.timedOut, .receive)))

        func fail() throws { throw UDPError(.send, errno: .permissionDenied) }
        var matched = false
        do {
            try fail()
        } catch Errno.permissionDenied {
            matched = true
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(matched)
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func aRealFailureCarriesItsErrno(_ family: AddressFamily) throws {
        let first = try loopbackSocket(family)
        let taken = try first.localAddress
        do {
            _ = try UDPSocket(bindingTo: taken)
            Issue.record("second bind to \(taken) succeeded")
        } catch Errno.addressInUse {
            // The pattern matched through UDPError.
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
