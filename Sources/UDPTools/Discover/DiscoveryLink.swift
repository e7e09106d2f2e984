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

/// The addresses of the interfaces a responder works on, read again every few seconds so that it follows a
/// change (DHCP renewing to a new address, an IPv6 address added): what it publishes and whose queries it
/// answers stay right without a restart.
struct LinkAddresses {
    /// How often the addresses are read again: one `getifaddrs`, cheap.
    static let checkInterval: UInt64 = 5_000_000_000

    /// Each interface, by index, with its addresses.
    private(set) var links: [UInt32: [InterfaceAddress]]
    /// When ``refresh(now:)`` next reads the addresses.
    private(set) var nextCheck: UInt64

    init(_ links: [UInt32: [InterfaceAddress]], now: UInt64) {
        self.links = links
        nextCheck = now + Self.checkInterval
    }

    /// Reads the addresses again when a check is due; returns the interfaces whose addresses changed.
    mutating func refresh(now: UInt64) -> [UInt32] {
        guard now >= nextCheck else { return [] }
        nextCheck = now + Self.checkInterval
        guard let all = try? NetworkInterface.addresses() else { return [] }
        var changed: [UInt32] = []
        for index in links.keys.sorted() {
            let current = all.filter { $0.interfaceIndex == index }
            if current != links[index] {
                links[index] = current
                changed.append(index)
            }
        }
        return changed
    }

    /// Whether `source` is on the link of `interface`: on one of its networks, or IPv6 link-local. A responder
    /// answers only such sources (RFC 6762 §11; SSDP the same, being an amplifier otherwise).
    func isOnLink(_ source: IPAddress, interface: UInt32) -> Bool {
        if case .v6(let address) = source.unmapped, address.isLinkLocal { return true }
        return links[interface]?.contains { $0.isOnSameNetwork(as: source) } ?? false
    }
}
