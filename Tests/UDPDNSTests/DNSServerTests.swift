import Testing
import UDP
import UDPDNS

@Suite struct DNSServerTests {
    @Test(arguments: [
        ("198.18.0.53", "198.18.0.53:53", false), ("198.18.0.53:5353", "198.18.0.53:5353", true),
        ("fd75::53", "[fd75::53]:53", false), ("[fd75::53]", "[fd75::53]:53", false),
        ("[fd75::53]:5353", "[fd75::53]:5353", true),
    ])
    func anAddressTakesPort53UnlessItNamesOne(text: String, address: String, explicitPort: Bool) throws {
        #expect(
            try DNSServer(parsing: text) == .address(try SocketAddress(parsing: address), explicitPort: explicitPort)
        )
    }

    @Test func systemIsResolvConfsFirstNameserver() throws {
        #expect(try DNSServer(parsing: "system") == .system)
    }

    @Test func aHostNameIsRefusedForTheQueryItWouldNeed() {
        #expect(throws: DNSServer.ParseError.hostName) { try DNSServer(parsing: "dns.example") }
        #expect(throws: DNSServer.ParseError.hostName) { try DNSServer(parsing: "dns.example:53") }
    }

    @Test func somethingElseIsNoAddress() {
        #expect(throws: DNSServer.ParseError.self) { try DNSServer(parsing: "198.18.0.53:99999") }
        #expect(throws: DNSServer.ParseError.self) { try DNSServer(parsing: "") }
    }

    @Test func aPortGivenApartReplacesTheOneNamed() throws {
        let server = try DNSServer(parsing: "198.18.0.53:5353")
        #expect(try server.resolve(port: 8053) == SocketAddress(parsing: "198.18.0.53:8053"))
        #expect(try server.resolve() == SocketAddress(parsing: "198.18.0.53:5353"))
    }
}
