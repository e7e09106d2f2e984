import UDP

extension NetworkInterface {
    /// The interfaces a link-local discovery protocol works on for `family`, each with all its addresses: those
    /// with an address of the family (loopback aside, which carries no multicast), limited to the `named` ones
    /// when any are.
    ///
    /// - Parameters:
    ///   - family: The address family.
    ///   - named: The interfaces asked for, by index; none asks for every one.
    ///   - addresses: Every interface's addresses (`NetworkInterface.addresses()`).
    public static func linkInterfaces(
        for family: AddressFamily,
        named: [UInt32] = [],
        among addresses: [InterfaceAddress]
    ) -> [UInt32: [InterfaceAddress]] {
        var chosen: [UInt32: [InterfaceAddress]] = [:]
        for address in addresses where address.address.family == family {
            let loopback = address.address == .v4(.loopback) || address.address == .v6(.loopback)
            guard !loopback, named.isEmpty || named.contains(address.interfaceIndex) else { continue }
            chosen[address.interfaceIndex] = addresses.filter { $0.interfaceIndex == address.interfaceIndex }
        }
        return chosen
    }

    /// Every interface's addresses now, by index, or nil when they cannot be read: the reader an announcing
    /// machine is given (UDPDiscovery's `MDNSAnnounceSession` and `SSDPAnnounceSession` call it every five
    /// seconds to follow an address change, the one `getifaddrs` they must not call themselves).
    @Sendable public static func addressesByIndex() -> [UInt32: [InterfaceAddress]]? {
        guard let addresses = try? NetworkInterface.addresses() else { return nil }
        return Dictionary(grouping: addresses, by: \.interfaceIndex)
    }
}

extension UDPSocket {
    /// The two sockets of an SSDP control point on `group`'s family, in the order UDPDiscovery's
    /// `SSDPSearchSession` numbers them: the one it searches from and hears answers on
    /// (`ssdpSearch(family:hops:)`, its `searchSocket`), then the one on the group's port that hears the
    /// announcements (`linkGroup(_:port:interfaces:hops:)`, its `listenSocket`).
    ///
    /// - Parameters:
    ///   - group: 239.255.255.250 or ff02::c.
    ///   - port: The SSDP port, 1900.
    ///   - interfaces: The interfaces to join the group on, by index.
    ///   - hops: The multicast TTL: 2, as UPnP says.
    public static func ssdpControlPoint(
        group: IPAddress,
        port: UInt16,
        interfaces: [UInt32],
        hops: UInt8
    ) throws(UDPError) -> [SharedUDPSocket] {
        [
            SharedUDPSocket(try ssdpSearch(family: group.family, hops: hops)),
            SharedUDPSocket(try linkGroup(group, port: port, interfaces: interfaces, hops: hops)),
        ]
    }
}
