import Testing

@testable import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Only `localhost` and literal addresses: any other name would send a DNS query off the machine.
@Suite struct SocketAddressResolveTests {
    @Test func localhostForIPv4IsTheLoopbackAddress() throws {
        let addresses = try SocketAddress.resolve("localhost", port: 9000, family: .inet)
        #expect(addresses.first == .loopbackV4(port: 9000))
        #expect(addresses.allSatisfy { $0.family == .inet && $0.port == 9000 })
        #expect(Set(addresses).count == addresses.count, "no duplicates")
    }

    @Test(.enabled(if: hostsMapsLocalhostToIPv6, "/etc/hosts has no '::1 localhost' line"))
    func localhostForIPv6IsTheLoopbackAddress() throws {
        let addresses = try SocketAddress.resolve("localhost", port: 9000, family: .inet6)
        #expect(addresses.contains(.loopbackV6(port: 9000)))
        #expect(addresses.allSatisfy { $0.family == .inet6 && $0.port == 9000 })
    }

    @Test func eitherFamilyPutsIPv4First() throws {
        let addresses = try SocketAddress.resolve("localhost", port: 53)
        #expect(addresses.first == .loopbackV4(port: 53))
        // Every IPv4 result comes before every IPv6 one.
        let firstV6 = addresses.firstIndex { $0.family == .inet6 } ?? addresses.endIndex
        #expect(addresses[firstV6...].allSatisfy { $0.family == .inet6 })
        if hostsMapsLocalhostToIPv6 {
            #expect(addresses.contains(.loopbackV6(port: 53)))
        }
    }

    @Test(
        arguments: [
            ("127.0.0.1", nil, "127.0.0.1:7"),
            ("127.0.0.1", .inet, "127.0.0.1:7"),
            ("::1", nil, "[::1]:7"),
            ("::1", .inet6, "[::1]:7"),
            ("fe80::1%lo", .inet6, "[fe80::1%lo]:7"),
        ] as [(String, AddressFamily?, String)]
    )
    func numericHostsNeedNoResolver(_ host: String, _ family: AddressFamily?, _ expected: String) throws {
        #expect(try SocketAddress.resolve(host, port: 7, family: family) == [SocketAddress(parsing: expected)])
    }

    @Test(arguments: [("127.0.0.1", AddressFamily.inet6), ("::1", .inet), ("::ffff:127.0.0.1", .inet)])
    func numericHostOfTheOtherFamilyIsAnError(_ host: String, _ family: AddressFamily) {
        let error = #expect(throws: UDPError.self) { try SocketAddress.resolve(host, port: 7, family: family) }
        #expect(error?.code == .nameResolution)
        #expect(error?.operation == .resolve)
        #expect(error?.description.contains(host) == true)
        #expect(error?.description.contains(family.description) == true)
    }

    @Test func unknownScopeIsAnInterfaceError() {
        let error = #expect(throws: UDPError.self) { try SocketAddress.resolve("fe80::1%nosuch0", port: 7) }
        #expect(error?.code == .unknownInterface)
    }

    @Test func resolvingTextSplitsHostAndPort() throws {
        #expect(try SocketAddress(resolving: "localhost:9000", family: .inet) == .loopbackV4(port: 9000))
        #expect(try SocketAddress(resolving: "localhost:9000") == .loopbackV4(port: 9000))
        #expect(try SocketAddress(resolving: "[::1]:9000") == .loopbackV6(port: 9000))
        #expect(try SocketAddress(resolving: "127.0.0.1:1") == .loopbackV4(port: 1))
    }

    @Test(arguments: ["localhost", "localhost:99999", "[::1]", "::1:80"])
    func resolvingTextChecksTheShapeFirst(_ text: String) {
        let error = #expect(throws: UDPError.self) { try SocketAddress(resolving: text) }
        #expect(error?.code == .invalidAddress)
    }
}
