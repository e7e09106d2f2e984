#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 address, stored inline as a 32-bit number (no allocation, unlike NIO's boxed addresses).
public struct IPv4Address: Hashable, Sendable, Comparable, LosslessStringConvertible {
    /// The address as a number in host byte order: `127.0.0.1` is `0x7F00_0001`.
    public var value: UInt32

    /// Creates an address from its 32-bit value in host byte order: `0x7F00_0001` is `127.0.0.1`.
    public init(value: UInt32) { self.value = value }

    /// Creates an address from its four bytes, most significant first: `IPv4Address(192, 0, 2, 1)`.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad text (`192.0.2.1`). Never blocks: names are resolved by `SocketAddress.resolve`.
    public init?(_ description: String) {
        var address = in_addr()
        guard inet_pton(AF_INET, description, &address) == 1 else { return nil }
        value = UInt32(bigEndian: address.s_addr)
    }

    /// The four bytes, most significant first.
    public var bytes: [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    public var description: String {
        let b = bytes
        return "\(b[0]).\(b[1]).\(b[2]).\(b[3])"
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }

    /// `0.0.0.0`: bind to every local address.
    public static let any = IPv4Address(value: 0)
    /// `127.0.0.1`.
    public static let loopback = IPv4Address(127, 0, 0, 1)
    /// `255.255.255.255`, the limited broadcast address.
    public static let broadcast = IPv4Address(value: .max)

    /// In `224.0.0.0/4`.
    public var isMulticast: Bool { value >> 28 == 0xE }
    /// In `127.0.0.0/8`.
    public var isLoopback: Bool { value >> 24 == 127 }
    /// `0.0.0.0`.
    public var isUnspecified: Bool { value == 0 }
    /// `255.255.255.255`. Directed broadcasts (`192.0.2.255` on a /24) look like unicast addresses here;
    /// the kernel refuses them too without `SO_BROADCAST`.
    public var isLimitedBroadcast: Bool { value == .max }

    var cAddress: in_addr { in_addr(s_addr: value.bigEndian) }
    init(_ address: in_addr) { value = UInt32(bigEndian: address.s_addr) }
}

/// An IPv6 address, stored inline as two 64-bit halves.
public struct IPv6Address: Hashable, Sendable, Comparable, LosslessStringConvertible {
    /// The first 64 bits, in host byte order.
    public var high: UInt64
    /// The last 64 bits, in host byte order.
    public var low: UInt64

    /// Creates an address from its two 64-bit halves in host byte order: `(high: 0, low: 1)` is `::1`.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses IPv6 text (`::1`, `fe80::1`, `::ffff:192.0.2.1`), without brackets or scope.
    public init?(_ description: String) {
        var address = in6_addr()
        guard inet_pton(AF_INET6, description, &address) == 1 else { return nil }
        self.init(address)
    }

    /// The 16 bytes, most significant first.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    /// The canonical text form of RFC 5952 (`2001:db8::1`), as `inet_ntop` writes it.
    public var description: String {
        var address = cAddress
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil else { return "?" }
        return String(cStringBuffer: text)
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool { (lhs.high, lhs.low) < (rhs.high, rhs.low) }

    /// `::`: bind to every local address (and, unless the socket is v6-only, every IPv4 one too).
    public static let any = IPv6Address(high: 0, low: 0)
    /// `::1`.
    public static let loopback = IPv6Address(high: 0, low: 1)

    /// In `ff00::/8`.
    public var isMulticast: Bool { high >> 56 == 0xFF }
    /// `::1`.
    public var isLoopback: Bool { self == .loopback }
    /// `::`.
    public var isUnspecified: Bool { high == 0 && low == 0 }
    /// In `fe80::/10`: needs a scope id (an interface) to be usable.
    public var isLinkLocal: Bool { high >> 54 == 0x3FA }
    /// A multicast address of interface-local or link-local scope (`ff01::/16`, `ff02::/16`), which also needs
    /// an interface.
    public var isLinkLocalMulticast: Bool { isMulticast && (high >> 48 & 0xF == 1 || high >> 48 & 0xF == 2) }

    /// An IPv4 address carried as `::ffff:a.b.c.d`, as a dual-stack socket reports IPv4 peers.
    public init(v4Mapped address: IPv4Address) {
        high = 0
        low = 0xFFFF_0000_0000 | UInt64(address.value)
    }

    /// The IPv4 address inside a v4-mapped address (`::ffff:a.b.c.d`), or nil.
    public var v4Mapped: IPv4Address? {
        guard high == 0, low >> 32 == 0xFFFF else { return nil }
        return IPv4Address(value: UInt32(truncatingIfNeeded: low))
    }

    var cAddress: in6_addr {
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { raw in
            raw.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        return address
    }

    init(_ address: in6_addr) {
        var copy = address
        (high, low) = withUnsafeBytes(of: &copy) { raw in
            (
                UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            )
        }
    }
}

/// An IPv4 or an IPv6 address, without a port.
public enum IPAddress: Hashable, Sendable, LosslessStringConvertible {
    /// An IPv4 address.
    case v4(IPv4Address)
    /// An IPv6 address, possibly a v4-mapped IPv4 one (see ``unmapped``).
    case v6(IPv6Address)

    /// Parses either form; IPv6 without brackets.
    public init?(_ description: String) {
        if let v4 = IPv4Address(description) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(description) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }

    /// The family a socket needs to use this address.
    public var family: AddressFamily {
        switch self {
        case .v4: .inet
        case .v6: .inet6
        }
    }

    /// Whether it is a multicast group address: in `224.0.0.0/4` or `ff00::/8`.
    public var isMulticast: Bool {
        switch self {
        case .v4(let address): address.isMulticast
        case .v6(let address): address.isMulticast
        }
    }

    /// Whether it is a loopback address: in `127.0.0.0/8`, `::1`, or a v4-mapped `127.x.y.z` (the form in
    /// which a dual-stack socket reports a local IPv4 peer).
    public var isLoopback: Bool {
        switch self {
        case .v4(let address): address.isLoopback
        case .v6(let address): address.isLoopback || (address.v4Mapped?.isLoopback ?? false)
        }
    }

    /// Whether it is the wildcard address, `0.0.0.0` or `::`: bound, it receives on every local address.
    public var isUnspecified: Bool {
        switch self {
        case .v4(let address): address.isUnspecified
        case .v6(let address): address.isUnspecified
        }
    }

    /// A v4-mapped IPv6 address as the IPv4 address it stands for; any other address unchanged.
    public var unmapped: IPAddress {
        if case .v6(let address) = self, let v4 = address.v4Mapped { return .v4(v4) }
        return self
    }
}

/// The address family of a socket: IPv4 (`AF_INET`) or IPv6 (`AF_INET6`).
public struct AddressFamily: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: CInt
    public init(rawValue: CInt) { self.rawValue = rawValue }

    /// IPv4, `AF_INET`.
    public static let inet = AddressFamily(rawValue: AF_INET)
    /// IPv6, `AF_INET6`; such a socket also serves IPv4 peers unless it is v6-only.
    public static let inet6 = AddressFamily(rawValue: AF_INET6)

    public var description: String { self == .inet ? "IPv4" : self == .inet6 ? "IPv6" : "family \(rawValue)" }

    /// The largest UDP payload the protocol can carry: 65535 minus the IP and UDP headers
    /// (65507 for IPv4, 65527 for IPv6 without jumbograms).
    public var maximumPayloadSize: Int { self == .inet ? 65_507 : 65_527 }
}
