import NIOCore
import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Both modules name their address type `SocketAddress`; in a file that imports both, write `UDP.SocketAddress`
// and `NIOCore.SocketAddress`. The two conversions below copy the fields of the C structures, so they cannot
// fail for IP addresses and never block.

extension UDP.SocketAddress {
    /// The IP address NIO reports, in this library's inline form; nil for a Unix domain socket address.
    public init?(_ address: NIOCore.SocketAddress) {
        switch address {
        case .v4(let v4):
            let raw = v4.address
            self = .v4(
                V4(
                    ip: IPv4Address(value: UInt32(bigEndian: raw.sin_addr.s_addr)),
                    port: UInt16(bigEndian: raw.sin_port)
                )
            )
        case .v6(let v6):
            let raw = v6.address
            let (high, low) = withUnsafeBytes(of: raw.sin6_addr) { bytes in
                (
                    UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)),
                    UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                )
            }
            self = .v6(
                V6(
                    ip: IPv6Address(high: high, low: low),
                    port: UInt16(bigEndian: raw.sin6_port),
                    flowInfo: UInt32(bigEndian: raw.sin6_flowinfo),
                    scopeID: raw.sin6_scope_id
                )
            )
        case .unixDomainSocket:
            return nil
        }
    }
}

extension UDP.IPAddress {
    /// The IP part of an address NIO reports (packet info's destination, for one); nil for a Unix domain
    /// socket address.
    init?(_ address: NIOCore.SocketAddress) {
        guard let socketAddress = UDP.SocketAddress(address) else { return nil }
        self = socketAddress.ip
    }
}

extension NIOCore.SocketAddress {
    /// The same address in NIO's form, for calling NIO directly. NIO boxes its addresses, so this allocates once.
    public init(_ address: UDP.SocketAddress) {
        switch address {
        case .v4(let v4):
            var raw = sockaddr_in()
            raw.sin_family = sa_family_t(AF_INET)
            raw.sin_port = v4.port.bigEndian
            raw.sin_addr.s_addr = v4.ip.value.bigEndian
            self.init(raw, host: "")
        case .v6(let v6):
            var raw = sockaddr_in6()
            raw.sin6_family = sa_family_t(AF_INET6)
            raw.sin6_port = v6.port.bigEndian
            raw.sin6_flowinfo = v6.flowInfo.bigEndian
            raw.sin6_scope_id = v6.scopeID
            withUnsafeMutableBytes(of: &raw.sin6_addr) { bytes in
                bytes.storeBytes(of: v6.ip.high.bigEndian, as: UInt64.self)
                bytes.storeBytes(of: v6.ip.low.bigEndian, toByteOffset: 8, as: UInt64.self)
            }
            self.init(raw, host: "")
        }
    }
}
