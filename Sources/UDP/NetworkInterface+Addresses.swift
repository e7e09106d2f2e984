#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An address configured on one of this host's interfaces.
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    /// The interface it is on: the scope an IPv6 link-local address needs.
    public var interfaceIndex: UInt32

    public init(address: IPAddress, interfaceIndex: UInt32) {
        self.address = address
        self.interfaceIndex = interfaceIndex
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
            let interfaceAddress = InterfaceAddress(address: address.ip, interfaceIndex: index)
            if !found.contains(interfaceAddress) { found.append(interfaceAddress) }
        }
        return found
    }
}
