import PropertyBased
import Testing

@testable import UDP

/// Properties of the address types over thousands of generated values. The generators run from a fixed seed,
/// so the default run is the same every time; change `seed` to explore other cases.
@Suite struct SocketAddressPropertyTests {
    static let seed: (UInt64, UInt64, UInt64, UInt64) = (0x5EED, 0x00DD, 0xBA11, 0x1234)
    static let ipv4 = Gen.uint32(in: 0...UInt32.max).map { IPv4Address(value: $0) }
    static let ipv6 = zip(Gen.uint64(in: 0...UInt64.max), Gen.uint64(in: 0...UInt64.max)).map {
        IPv6Address(high: $0, low: $1)
    }
    static let port = Gen.uint16(in: 0...UInt16.max)

    /// Calls `body` with `count` values of `generator`, drawn from the fixed seed.
    func forAll<Value, Shrinker>(
        _ count: Int,
        _ generator: Generator<Value, Shrinker>,
        _ body: (Value) throws -> Void
    ) rethrows {
        var random = Xoshiro(seed: Self.seed)
        for _ in 0..<count { try body(generator.run(using: &random)) }
    }

    @Test func ipv4TextRoundTrips() {
        forAll(2_000, zip(Self.ipv4, Self.port)) { ip, port in
            let address = SocketAddress(ip, port: port)
            #expect(SocketAddress(address.description) == address)
            #expect(IPv4Address(ip.description) == ip)
        }
    }

    @Test func ipv6TextRoundTrips() {
        forAll(2_000, zip(Self.ipv6, Self.port)) { ip, port in
            let address = SocketAddress(ip, port: port)
            #expect(SocketAddress(address.description) == address)
            #expect(IPv6Address(ip.description) == ip)
        }
    }

    @Test func v4MappedIsTheIPv4Peer() {
        forAll(2_000, zip(Self.ipv4, Self.port)) { ip, port in
            let plain = SocketAddress(ip, port: port)
            let mapped = plain.converted(for: .inet6)
            #expect(mapped.isV4Mapped)
            #expect(mapped.unmapped == plain)
            #expect(mapped.converted(for: .inet) == plain)
        }
    }

    @Test func anyTextParsesOrIsRefused() {
        let alphabet = Gen.element(of: Array("0123456789abcdef:.[]%lo ".utf8)).map { $0 ?? 0x30 }
        forAll(5_000, alphabet.array(of: 0...40)) { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            do throws(UDPError) {
                let address = try SocketAddress(parsing: text)
                #expect(SocketAddress(address.description) == address)
            } catch {
                #expect(error.code == .invalidAddress || error.code == .unknownInterface)
            }
        }
    }
}
