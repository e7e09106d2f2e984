import UDP

extension UDPSocket {
    /// A socket for a link-local discovery protocol's group (mDNS's 224.0.0.251:5353, SSDP's
    /// 239.255.255.250:1900): the port shared with the host's other responders (`SO_REUSEADDR`, `SO_REUSEPORT`),
    /// the group joined on each interface, only its own groups received (`IP_MULTICAST_ALL` off), its own
    /// multicasts looped back for responders on this host, and packet info and the received hop limit on so each
    /// datagram's interface and origin are known.
    ///
    /// - Parameters:
    ///   - group: The group to join; its family is the socket's (an IPv6 socket is IPv6-only).
    ///   - port: The protocol's port.
    ///   - interfaces: The interfaces to join on, by index.
    ///   - hops: The multicast TTL or hop limit: 255 for mDNS, which checks it, 2 for SSDP, as UPnP says.
    public static func linkGroup(
        _ group: IPAddress,
        port: UInt16,
        interfaces: [UInt32],
        hops: UInt8
    ) throws(UDPError) -> UDPSocket {
        let socket = try UDPSocket(family: group.family)
        if group.family == .inet6 { try socket.setIPv6Only(true) }
        try socket.setReuseAddress(true)
        try socket.setReusePort(true)
        try socket.bind(to: .any(group.family, port: port))
        try socket.setMulticastAll(false)
        try socket.setMulticastHops(Int(hops))
        try socket.setMulticastLoopback(true)
        try socket.setReceivePacketInfo(true)
        try socket.setReceiveHopLimit(true)
        for interface in interfaces { try socket.joinMulticastGroup(group, interface: .index(interface)) }
        return socket
    }
}

extension UDPSocket {
    /// The errors that lose one datagram of a discovery protocol but stop nothing: its interface went down, or
    /// the one who asked is gone (an ICMP error that an earlier answer drew).
    private static let passingLinkErrors: [Errno] = [
        .networkUnreachable, .noSuchDevice, .hostUnreachable, .connectionRefused,
    ]

    /// Sends `bytes` to `destination`, out of `interface` when it is a group.
    ///
    /// - Returns: False when the datagram was lost to one of the errors that stop nothing: the other interfaces
    ///   and peers go on.
    @discardableResult
    func sendOnLink(_ bytes: [UInt8], to destination: SocketAddress, interface: UInt32) throws(UDPError) -> Bool {
        do throws(UDPError) {
            if destination.ip.isMulticast { try setMulticastInterface(.index(interface)) }
            try send(bytes, to: destination)
            return true
        } catch {
            guard let errno = error.errno, Self.passingLinkErrors.contains(errno) else { throw error }
            return false
        }
    }
}

extension UDPSocket {
    /// A socket for multicast DNS on `group` (224.0.0.251 or ff02::fb) and `port` (5353):
    /// `linkGroup(_:port:interfaces:hops:)` with a hop limit of 255 both ways, multicast and unicast, which
    /// receivers check to know a packet is from the link (RFC 6762 §11).
    public static func multicastDNS(
        group: IPAddress,
        port: UInt16 = 5353,
        interfaces: [UInt32]
    ) throws(UDPError) -> UDPSocket {
        let socket = try linkGroup(group, port: port, interfaces: interfaces, hops: 255)
        try socket.setUnicastHops(255)
        return socket
    }

    /// The socket an SSDP control point searches from and hears answers on: an ephemeral port on `family`
    /// (IPv6-only for IPv6), multicast TTL `hops` (2, as UPnP says), its own searches looped back, packet info
    /// on so each answer's interface is known.
    public static func ssdpSearch(family: AddressFamily, hops: UInt8 = 2) throws(UDPError) -> UDPSocket {
        let socket = try UDPSocket(family: family)
        if family == .inet6 { try socket.setIPv6Only(true) }
        try socket.bind(to: .any(family, port: 0))
        try socket.setMulticastHops(Int(hops))
        try socket.setMulticastLoopback(true)
        try socket.setReceivePacketInfo(true)
        return socket
    }
}
