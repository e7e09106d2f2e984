import Testing
import UDP
import UDPDNS

@Suite struct ResolvConfTests {
    @Test func resolvConfsFirstNameserver() throws {
        let text = """
            # generated
            search example.test
            ;nameserver 198.18.0.1
            options edns0
            nameserver\tfd75:6470::53
            nameserver 198.18.0.53
            """
        #expect(ResolvConf.firstNameserver(in: text) == SocketAddress(IPv6Address("fd75:6470::53")!, port: 53))
        #expect(
            ResolvConf.firstNameserver(in: "nameserver 198.18.0.53")
                == SocketAddress(IPv4Address(198, 18, 0, 53), port: 53)
        )
        #expect(ResolvConf.firstNameserver(in: "nameserver not-an-address\n") == nil)
        #expect(ResolvConf.firstNameserver(in: "") == nil)
    }
}
