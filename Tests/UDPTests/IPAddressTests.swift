import Testing

@testable import UDP

@Suite struct IPAddressTests {
    @Test func ipv4FromOctetsTextAndNumber() {
        let address = IPv4Address(192, 0, 2, 1)
        #expect(address.value == 0xC000_0201)
        #expect(address.bytes == [192, 0, 2, 1])
        #expect(address.description == "192.0.2.1")
        #expect(IPv4Address("192.0.2.1") == address)
        #expect(IPv4Address(value: 0x7F00_0001) == .loopback)
        #expect(IPv4Address.broadcast.description == "255.255.255.255")
        #expect(IPv4Address.any.description == "0.0.0.0")
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "::1", "localhost", "1.2.3.-4"])
    func ipv4RefusesNonDottedQuads(_ text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test func ipv4Predicates() {
        #expect(IPv4Address(224, 0, 0, 1).isMulticast)
        #expect(IPv4Address(239, 255, 255, 255).isMulticast)
        #expect(!IPv4Address(223, 255, 255, 255).isMulticast)
        #expect(!IPv4Address(240, 0, 0, 0).isMulticast)
        #expect(IPv4Address.loopback.isLoopback)
        #expect(IPv4Address(127, 255, 0, 9).isLoopback)
        #expect(!IPv4Address(128, 0, 0, 1).isLoopback)
        #expect(IPv4Address.any.isUnspecified)
        #expect(!IPv4Address.loopback.isUnspecified)
        #expect(IPv4Address.broadcast.isLimitedBroadcast)
        // A directed broadcast looks like any other address without knowing the prefix.
        #expect(!IPv4Address(192, 0, 2, 255).isLimitedBroadcast)
    }

    @Test func ipv4OrdersNumerically() {
        #expect(IPv4Address(9, 0, 0, 0) < IPv4Address(10, 0, 0, 0))
        #expect(IPv4Address(10, 0, 0, 2) > IPv4Address(10, 0, 0, 1))
        #expect([IPv4Address.broadcast, .any, .loopback].sorted() == [.any, .loopback, .broadcast])
    }

    @Test(arguments: [
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("::1", "::1"),
        ("::", "::"),
        ("FE80::1", "fe80::1"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
    ])
    func ipv6PrintsTheCanonicalForm(_ text: String, _ canonical: String) throws {
        let address = try #require(IPv6Address(text))
        #expect(address.description == canonical)
        #expect(IPv6Address(canonical) == address)
    }

    @Test func ipv6Halves() throws {
        let address = try #require(IPv6Address("2001:db8::1"))
        #expect(address.high == 0x2001_0DB8_0000_0000)
        #expect(address.low == 1)
        #expect(address.bytes == [0x20, 0x01, 0x0D, 0xB8] + Array(repeating: 0, count: 11) + [1])
        #expect(IPv6Address.loopback == IPv6Address(high: 0, low: 1))
    }

    @Test(arguments: ["", "1.2.3.4", "[::1]", "fe80::1%lo", ":::1", "1::2::3", "12345::1", "localhost"])
    func ipv6RefusesOtherText(_ text: String) {
        #expect(IPv6Address(text) == nil)
    }

    @Test func ipv6Predicates() throws {
        func v6(_ text: String) throws -> IPv6Address { try #require(IPv6Address(text)) }
        #expect(try v6("ff02::1").isMulticast)
        #expect(try v6("ff15::1234").isMulticast)
        #expect(try !v6("fe80::1").isMulticast)
        #expect(try v6("fe80::1").isLinkLocal)
        #expect(try v6("febf:ffff::1").isLinkLocal)
        #expect(try !v6("fec0::1").isLinkLocal)
        #expect(try !v6("fe7f::1").isLinkLocal)
        #expect(try v6("ff02::1234").isLinkLocalMulticast)
        #expect(try v6("ff01::1").isLinkLocalMulticast)
        #expect(try v6("ff12::1").isLinkLocalMulticast)  // transient flag, link-local scope
        #expect(try !v6("ff05::1").isLinkLocalMulticast)
        #expect(try !v6("ff15::1234").isLinkLocalMulticast)
        #expect(try !v6("fe80::1").isLinkLocalMulticast)
        #expect(IPv6Address.loopback.isLoopback)
        #expect(try !v6("::2").isLoopback)
        #expect(IPv6Address.any.isUnspecified)
        #expect(!IPv6Address.loopback.isUnspecified)
    }

    @Test func ipv6CarriesV4Mapped() throws {
        let mapped = IPv6Address(v4Mapped: IPv4Address(192, 0, 2, 1))
        #expect(mapped.description == "::ffff:192.0.2.1")
        #expect(mapped.v4Mapped == IPv4Address(192, 0, 2, 1))
        #expect(IPv6Address.loopback.v4Mapped == nil)
        // IPv4-compatible (::a.b.c.d, deprecated) is not v4-mapped.
        #expect(try #require(IPv6Address("::192.0.2.1")).v4Mapped == nil)
    }

    @Test func ipv6OrdersNumerically() throws {
        let low = try #require(IPv6Address("2001:db8::ffff"))
        let high = try #require(IPv6Address("2001:db8:0:1::"))
        #expect(low < high)
        #expect(IPv6Address.any < .loopback)
    }

    @Test func ipAddressParsesEitherFamily() {
        #expect(IPAddress("127.0.0.1") == .v4(.loopback))
        #expect(IPAddress("::1") == .v6(.loopback))
        #expect(IPAddress("[::1]") == nil)
        #expect(IPAddress("nonsense") == nil)
        #expect(IPAddress.v4(.loopback).family == .inet)
        #expect(IPAddress.v6(.loopback).family == .inet6)
        #expect(IPAddress.v6(.loopback).description == "::1")
    }

    @Test func ipAddressPredicatesCoverBothFamilies() throws {
        #expect(try #require(IPAddress("239.1.2.3")).isMulticast)
        #expect(try #require(IPAddress("ff02::1")).isMulticast)
        #expect(try #require(IPAddress("::ffff:127.0.0.1")).isLoopback)
        #expect(try #require(IPAddress("::1")).isLoopback)
        #expect(try #require(IPAddress("127.0.0.2")).isLoopback)
        #expect(try #require(IPAddress("0.0.0.0")).isUnspecified)
        #expect(try #require(IPAddress("::")).isUnspecified)
        #expect(try #require(IPAddress("::ffff:192.0.2.1")).unmapped == .v4(IPv4Address(192, 0, 2, 1)))
        #expect(IPAddress.v6(.loopback).unmapped == .v6(.loopback))
    }

    @Test func addressFamilyNamesAndLimits() {
        #expect(AddressFamily.inet.description == "IPv4")
        #expect(AddressFamily.inet6.description == "IPv6")
        #expect(AddressFamily(rawValue: 1).description == "family 1")
        #expect(AddressFamily.inet.maximumPayloadSize == 65_507)
        #expect(AddressFamily.inet6.maximumPayloadSize == 65_527)
    }
}
