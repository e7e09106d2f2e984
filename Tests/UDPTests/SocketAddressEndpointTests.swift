import Testing
import UDP

@Suite struct SocketAddressEndpointTests {
    @Test func theSameEndpointWhetherMappedOrNot() throws {
        let server = try SocketAddress(parsing: "127.0.0.1:53")
        #expect(try SocketAddress(parsing: "[::ffff:127.0.0.1]:53").isSameEndpoint(as: server))
        #expect(try SocketAddress(parsing: "127.0.0.1:53").isSameEndpoint(as: server))
        #expect(try !SocketAddress(parsing: "127.0.0.1:54").isSameEndpoint(as: server))
        #expect(try !SocketAddress(parsing: "127.0.0.2:53").isSameEndpoint(as: server))
        #expect(try !SocketAddress(parsing: "[::1]:53").isSameEndpoint(as: server))
    }

    @Test func aScopeCountsOnlyWhereThePeerNamesOne() {
        let unscoped = SocketAddress(IPv6Address("fe80::1")!, port: 53)
        let scoped = SocketAddress(IPv6Address("fe80::1")!, port: 53, scopeID: 2)
        let otherScope = SocketAddress(IPv6Address("fe80::1")!, port: 53, scopeID: 3)
        #expect(scoped.isSameEndpoint(as: unscoped))
        #expect(scoped.isSameEndpoint(as: scoped))
        #expect(!otherScope.isSameEndpoint(as: scoped))
    }
}
