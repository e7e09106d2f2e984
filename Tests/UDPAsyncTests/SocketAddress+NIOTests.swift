import NIOCore
import Testing
import UDP
import UDPAsync

@Suite struct SocketAddressNIOTests {
    @Test(arguments: [
        "127.0.0.1:9000", "0.0.0.0:0", "192.0.2.255:65535", "[::1]:9000", "[2001:db8::1]:1", "[::ffff:192.0.2.1]:53",
        "[fe80::1%1]:9000",
    ])
    func roundTripsThroughNIO(text: String) throws {
        let address = try UDP.SocketAddress(parsing: text)
        let nio = NIOCore.SocketAddress(address)
        #expect(nio.port == Int(address.port))
        #expect(UDP.SocketAddress(nio) == address)
    }

    @Test func agreesWithNIOsOwnParser() throws {
        let nio = try NIOCore.SocketAddress(ipAddress: "2001:db8::42", port: 443)
        #expect(UDP.SocketAddress(nio) == (try UDP.SocketAddress(parsing: "[2001:db8::42]:443")))
        let v4 = try NIOCore.SocketAddress(ipAddress: "198.51.100.7", port: 53)
        #expect(UDP.SocketAddress(v4) == (try UDP.SocketAddress(parsing: "198.51.100.7:53")))
        #expect(NIOCore.SocketAddress(try UDP.SocketAddress(parsing: "198.51.100.7:53")) == v4)
    }

    @Test func flowInfoSurvives() {
        let address = UDP.SocketAddress.v6(.init(ip: .loopback, port: 7, flowInfo: 0x1_2345, scopeID: 0))
        #expect(UDP.SocketAddress(NIOCore.SocketAddress(address)) == address)
    }

    @Test func unixDomainAddressesHaveNoUDPForm() throws {
        #expect(UDP.SocketAddress(try NIOCore.SocketAddress(unixDomainSocketPath: "/tmp/x")) == nil)
    }
}
