import Testing

@testable import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite struct SocketAddressTests {
    @Test(arguments: [
        "127.0.0.1:9000", "0.0.0.0:0", "255.255.255.255:65535", "[::1]:9000", "[::]:0", "[2001:db8::1]:53",
        "[fe80::1%lo]:9000", "[::ffff:127.0.0.1]:9000",
    ])
    func printsBackWhatItParsed(_ text: String) throws {
        let address = try SocketAddress(parsing: text)
        #expect(address.description == text)
        #expect(SocketAddress(text) == address)
        #expect(try SocketAddress(parsing: address.description) == address)
    }

    @Test func parsesIPv4() throws {
        let address = try SocketAddress(parsing: "127.0.0.1:9000")
        #expect(address == .v4(.init(ip: IPv4Address(127, 0, 0, 1), port: 9000)))
        #expect(address.family == .inet)
        #expect(address.ip == .v4(.loopback))
        #expect(address.port == 9000)
    }

    @Test func parsesIPv6() throws {
        let address = try SocketAddress(parsing: "[::1]:9000")
        #expect(address == .v6(.init(ip: .loopback, port: 9000)))
        #expect(address.family == .inet6)
        #expect(address.ip == .v6(.loopback))
    }

    @Test func scopeByNameBecomesTheInterfaceIndex() throws {
        let address = try SocketAddress(parsing: "[fe80::1%lo]:9000")
        guard case .v6(let v6) = address else {
            Issue.record("expected IPv6, got \(address)")
            return
        }
        #expect(v6.scopeID == if_nametoindex("lo"))
        #expect(v6.scopeID != 0)
        #expect(v6.ip == IPv6Address("fe80::1"))
        #expect(address.description == "[fe80::1%lo]:9000")
    }

    @Test func scopeByIndexPrintsTheInterfaceName() throws {
        let address = try SocketAddress(parsing: "[fe80::1%1]:80")
        guard case .v6(let v6) = address else {
            Issue.record("expected IPv6, got \(address)")
            return
        }
        #expect(v6.scopeID == 1)
        #expect(v6.port == 80)
        // Index 1 is `lo` on Linux; the name is printed when the index still names an interface.
        let name = NetworkInterface.name(ofIndex: 1) ?? "1"
        #expect(address.description == "[fe80::1%\(name)]:80")
        #expect(try SocketAddress(parsing: address.description) == address)
    }

    @Test func scopeOfAMissingInterfacePrintsAsANumber() throws {
        let address = try SocketAddress(parsing: "[fe80::1%3999999]:80")
        #expect(address.description == "[fe80::1%3999999]:80")
        #expect(try SocketAddress(parsing: address.description) == address)
    }

    @Test func unknownInterfaceNameIsRefused() {
        let error = #expect(throws: UDPError.self) { try SocketAddress(parsing: "[fe80::1%nosuch0]:9000") }
        #expect(error?.code == .unknownInterface)
        #expect(error?.description.contains("nosuch0") == true)
    }

    @Test(arguments: [
        ("127.0.0.1", "needs a port"),
        ("garbage", "needs a port"),
        ("127.0.0.1:70000", "0-65535"),
        ("127.0.0.1:9999999", "0-65535"),
        ("127.0.0.1:", "not a number"),
        ("127.0.0.1:-1", "not a number"),
        ("127.0.0.1:http", "not a number"),
        ("::1:9000", "brackets"),
        ("fe80::1:9000", "brackets"),
        ("[::1]", "needs a port"),
        ("[::1]9000", "needs a port"),
        ("[::1:9000", "closing"),
        (":9000", "no host"),
        ("[]:9000", "no host"),
        ("garbage:80", "not an IP address"),
        ("localhost:80", "not an IP address"),
        ("256.0.0.1:80", "not an IP address"),
        ("[127.0.0.1%lo]:80", "not an IP address"),
        ("[zz::1]:80", "not an IP address"),
        ("[127.0.0.1]:80", "brackets are for IPv6"),
    ])
    func refusesMalformedText(_ text: String, _ reason: String) {
        let error = #expect(throws: UDPError.self) { try SocketAddress(parsing: text) }
        #expect(error?.code == .invalidAddress)
        #expect(error?.operation == .parse)
        #expect(error?.errno == nil)
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
        #expect(SocketAddress(text) == nil)
    }

    @Test func portOutOfRangeMessageNamesTheRange() {
        let error = #expect(throws: UDPError.self) { try SocketAddress(parsing: "127.0.0.1:70000") }
        #expect(error?.description == "'127.0.0.1:70000': port 70000 is out of range 0-65535")
    }

    @Test(arguments: [("0", 0), ("53", 53), ("65535", 65535), ("00080", 80)] as [(String, UInt16)])
    func parsesPorts(_ text: String, _ port: UInt16) throws {
        #expect(try SocketAddress.parsePort(text) == port)
    }

    @Test func recognisesV4MappedAddresses() throws {
        let mapped = try SocketAddress(parsing: "[::ffff:127.0.0.1]:9000")
        #expect(mapped.isV4Mapped)
        #expect(mapped.family == .inet6)
        #expect(mapped.unmapped == SocketAddress(IPv4Address.loopback, port: 9000))
        #expect(mapped.unmapped.family == .inet)

        let plain = try SocketAddress(parsing: "[::1]:9000")
        #expect(!plain.isV4Mapped)
        #expect(plain.unmapped == plain)
        let v4 = SocketAddress.loopbackV4(port: 9000)
        #expect(!v4.isV4Mapped)
        #expect(v4.unmapped == v4)
    }

    @Test func convertsIPv4ForAnIPv6Socket() throws {
        let v4 = SocketAddress.loopbackV4(port: 7)
        let converted = v4.converted(for: .inet6)
        #expect(converted == (try SocketAddress(parsing: "[::ffff:127.0.0.1]:7")))
        #expect(converted.unmapped == v4)
        #expect(v4.converted(for: .inet) == v4)
        let v6 = SocketAddress.loopbackV6(port: 7)
        #expect(v6.converted(for: .inet6) == v6)
        #expect(v6.converted(for: .inet) == v6)
        // A peer reported v4-mapped by a dual-stack socket can be answered from an IPv4 socket.
        #expect(converted.converted(for: .inet) == v4)
    }

    @Test func worksAsADictionaryKey() throws {
        var counts: [SocketAddress: Int] = [:]
        for text in ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:1", "[::1]:1", "[::ffff:127.0.0.1]:1", "127.0.0.1:1"] {
            counts[try SocketAddress(parsing: text), default: 0] += 1
        }
        #expect(counts.count == 4)
        #expect(counts[.loopbackV4(port: 1)] == 3)
        #expect(counts[.loopbackV4(port: 2)] == 1)
        #expect(counts[.loopbackV6(port: 1)] == 1)
        #expect(counts[SocketAddress(IPv6Address(v4Mapped: .loopback), port: 1)] == 1)
    }

    @Test func scopeIDAndFlowInfoTakePartInEquality() {
        let plain = SocketAddress.v6(.init(ip: IPv6Address("fe80::1")!, port: 1))
        let scoped = SocketAddress.v6(.init(ip: IPv6Address("fe80::1")!, port: 1, scopeID: 1))
        let flow = SocketAddress.v6(.init(ip: IPv6Address("fe80::1")!, port: 1, flowInfo: 5))
        #expect(Set([plain, scoped, flow]).count == 3)
    }

    @Test func changesThePortInPlace() {
        var v4 = SocketAddress.loopbackV4(port: 1)
        v4.port = 4242
        #expect(v4 == .loopbackV4(port: 4242))
        var v6 = SocketAddress(IPv6Address("fe80::1")!, port: 1, scopeID: 7)
        v6.port = 4242
        #expect(v6 == SocketAddress(IPv6Address("fe80::1")!, port: 4242, scopeID: 7))
    }

    @Test func namedConstructors() {
        #expect(SocketAddress.any(.inet).description == "0.0.0.0:0")
        #expect(SocketAddress.any(.inet6, port: 53).description == "[::]:53")
        #expect(SocketAddress.loopbackV4(port: 1).description == "127.0.0.1:1")
        #expect(SocketAddress.loopbackV6(port: 1).description == "[::1]:1")
        #expect(SocketAddress(IPAddress.v6(.loopback), port: 3) == .loopbackV6(port: 3))
        #expect(SocketAddress(IPAddress.v4(.loopback), port: 3) == .loopbackV4(port: 3))
    }
}
