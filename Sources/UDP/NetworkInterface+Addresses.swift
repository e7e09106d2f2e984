#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An address configured on one of this host's interfaces.
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address itself, IPv4 or IPv6.
    public var address: IPAddress
    /// The interface it is on: the scope an IPv6 link-local address needs.
    public var interfaceIndex: UInt32
    /// The length of its network's prefix (24 for a /24), nil when the system did not say.
    public var prefixLength: Int?

    /// Creates an entry from its parts, for tests; ``NetworkInterface/addresses()`` lists the host's real ones.
    public init(address: IPAddress, interfaceIndex: UInt32, prefixLength: Int? = nil) {
        self.address = address
        self.interfaceIndex = interfaceIndex
        self.prefixLength = prefixLength
    }

    /// Whether `other` is on this address's network: the same family and the same first ``prefixLength`` bits.
    /// An IPv4-mapped IPv6 address counts as IPv4; without a known prefix, only the address itself is.
    public func isOnSameNetwork(as other: IPAddress) -> Bool {
        let bits = prefixLength ?? (address.family == .inet ? 32 : 128)
        switch (address, other.unmapped) {
        case (.v4(let mine), .v4(let theirs)):
            guard bits > 0 else { return true }
            let mask = bits >= 32 ? UInt32.max : ~(UInt32.max >> UInt32(bits))
            return mine.value & mask == theirs.value & mask
        case (.v6(let mine), .v6(let theirs)):
            let highMask = bits >= 64 ? UInt64.max : bits <= 0 ? 0 : ~(UInt64.max >> UInt64(bits))
            let lowMask = bits >= 128 ? UInt64.max : bits <= 64 ? 0 : ~(UInt64.max >> UInt64(bits - 64))
            return mine.high & highMask == theirs.high & highMask && mine.low & lowMask == theirs.low & lowMask
        default:
            return false
        }
    }

    /// The socket address of this address and `port`, with the interface as its scope when it is IPv6 link-local.
    public func socketAddress(port: UInt16) -> SocketAddress {
        switch address {
        case .v4(let ip): return .v4(.init(ip: ip, port: port))
        case .v6(let ip): return .v6(.init(ip: ip, port: port, scopeID: ip.isLinkLocal ? interfaceIndex : 0))
        }
    }

    public var description: String { "\(address)%\(interfaceIndex)" }
}

extension NetworkInterface {
    /// The IPv4 and IPv6 addresses of this host's interfaces that are up, as `getifaddrs(3)` lists them: what a
    /// server bound to a wildcard address can be asked on now.
    ///
    /// - Throws: `UDPError` when the system cannot list them.
    public static func addresses() throws(UDPError) -> [InterfaceAddress] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { throw UDPError(.interface, errno: .current) }
        defer { freeifaddrs(list) }
        var found: [InterfaceAddress] = []
        var entry = list
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            guard current.pointee.ifa_flags & UInt32(IFF_UP) != 0,
                let address = SocketAddress(
                    current.pointee.ifa_addr,
                    length: socklen_t(MemoryLayout<sockaddr_in6>.size)
                )
            else { continue }
            let index = if_nametoindex(current.pointee.ifa_name)
            let interfaceAddress = InterfaceAddress(
                address: address.ip,
                interfaceIndex: index,
                prefixLength: current.pointee.ifa_netmask.flatMap(Self.prefixLength(ofMask:))
            )
            if !found.contains(interfaceAddress) { found.append(interfaceAddress) }
        }
        return found
    }

    /// The number of leading one bits of a netmask that `getifaddrs` gives as a socket address.
    private static func prefixLength(ofMask mask: UnsafeMutablePointer<sockaddr>) -> Int? {
        guard let netmask = SocketAddress(mask, length: socklen_t(MemoryLayout<sockaddr_in6>.size)) else { return nil }
        let bytes: [UInt8]
        switch netmask.ip {
        case .v4(let ip): bytes = ip.bytes
        case .v6(let ip): bytes = ip.bytes
        }
        var length = 0
        for byte in bytes {
            length += (~byte).leadingZeroBitCount
            if byte != 0xFF { break }
        }
        return length
    }
}
