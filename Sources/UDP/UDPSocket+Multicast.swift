import CUDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The interface a multicast membership or send uses.
public enum MulticastInterface: Hashable, Sendable, CustomStringConvertible {
    /// Let the kernel choose from the routing table (for IPv6 link-local groups, name one instead).
    case any
    /// The interface with this index (``NetworkInterface/index``); IPv4 and IPv6.
    case index(UInt32)
    /// The interface that has this local IPv4 address; IPv4 only.
    case address(IPv4Address)

    /// The interface named `name` (`eth0`, or an index in decimal), or, for IPv4, given by one of its addresses.
    public init(parsing name: String) throws(UDPError) {
        if let address = IPv4Address(name) {
            self = .address(address)
        } else {
            self = .index(try NetworkInterface(named: name).index)
        }
    }

    var index: UInt32 {
        if case .index(let index) = self { return index }
        return 0
    }

    public var description: String {
        switch self {
        case .any: "any"
        case .index(let index): NetworkInterface.name(ofIndex: index) ?? "index \(index)"
        case .address(let address): "with address \(address)"
        }
    }

    var address: IPv4Address {
        if case .address(let address) = self { return address }
        return .any
    }
}

// Multicast: memberships, the outgoing interface, hops and loopback.
extension UDPSocket {
    /// Joins a multicast group, or a source-specific group when `source` is given (only datagrams from
    /// `source` are then delivered; RFC 4607).
    ///
    /// Bind the socket to the group's port first (on `0.0.0.0` / `[::]`, or on the group address itself to
    /// filter out other groups). Note that Linux, by default, delivers to every socket bound to the port the
    /// datagrams of any group joined by any socket on the host: turn ``setMulticastAll(_:)`` off to receive
    /// only this socket's groups.
    ///
    /// - Throws: `UDPError` with code `.unknownInterface` for an interface that does not exist,
    ///   `.invalidArgument` for a group that is not multicast or an IPv4 interface address on IPv6.
    ///
    /// The corresponding C options are `IP_ADD_MEMBERSHIP`, `IPV6_JOIN_GROUP` and `MCAST_JOIN_SOURCE_GROUP`.
    public func joinMulticastGroup(
        _ group: IPAddress,
        interface: MulticastInterface = .any,
        source: IPAddress? = nil
    ) throws(UDPError) {
        try changeMembership(join: true, group, interface, source)
    }

    /// Leaves a group joined with ``joinMulticastGroup(_:interface:source:)``, with the same arguments.
    public func leaveMulticastGroup(
        _ group: IPAddress,
        interface: MulticastInterface = .any,
        source: IPAddress? = nil
    ) throws(UDPError) {
        try changeMembership(join: false, group, interface, source)
    }

    private func changeMembership(
        join: Bool,
        _ group: IPAddress,
        _ interface: MulticastInterface,
        _ source: IPAddress?
    ) throws(UDPError) {
        let operation: UDPError.Operation = join ? .joinGroup : .leaveGroup
        guard group.isMulticast else {
            throw UDPError(.invalidArgument, operation, detail: "\(group) is not a multicast address")
        }
        if let source, source.family != group.family {
            throw UDPError(.invalidArgument, operation, detail: "source \(source) and group \(group) differ in family")
        }
        switch (group, source) {
        case (.v4(let address), nil):
            do throws(UDPError) {
                _ = try retryingInterrupts(operation) {
                    cudp_ipv4_membership(
                        descriptor,
                        join ? 1 : 0,
                        address.value.bigEndian,
                        interface.address.value.bigEndian,
                        interface.index
                    )
                }
            } catch {
                throw membershipError(error, operation, group)
            }
        case (.v4(let address), .v4(let sourceAddress)?):
            if case .address(let local) = interface {
                var request = ip_mreq_source()
                request.imr_multiaddr = address.cAddress
                request.imr_interface = local.cAddress
                request.imr_sourceaddr = sourceAddress.cAddress
                let name = join ? IP_ADD_SOURCE_MEMBERSHIP : IP_DROP_SOURCE_MEMBERSHIP
                try membershipOption(operation, group, cudp_IPPROTO_IP, name, request)
            } else {
                try sourceMembership(
                    join,
                    operation,
                    cudp_IPPROTO_IP,
                    interface.index,
                    group,
                    sourceAddress: .v4(sourceAddress)
                )
            }
        case (.v6(let address), nil):
            if case .address = interface {
                throw UDPError(.invalidArgument, operation, detail: "an IPv6 group needs an interface name or index")
            }
            var request = ipv6_mreq()
            request.ipv6mr_multiaddr = address.cAddress
            request.ipv6mr_interface = interface.index
            try membershipOption(
                operation,
                group,
                cudp_IPPROTO_IPV6,
                join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP,
                request
            )
        case (.v6, .v6(let sourceAddress)?):
            if case .address = interface {
                throw UDPError(.invalidArgument, operation, detail: "an IPv6 group needs an interface name or index")
            }
            try sourceMembership(
                join,
                operation,
                cudp_IPPROTO_IPV6,
                interface.index,
                group,
                sourceAddress: .v6(sourceAddress)
            )
        default:
            throw UDPError(.invalidArgument, operation, detail: "source and group differ in family")
        }
    }

    private func membershipOption<T>(
        _ operation: UDPError.Operation,
        _ group: IPAddress,
        _ level: CInt,
        _ name: CInt,
        _ request: T
    ) throws(UDPError) {
        do throws(UDPError) {
            try setOption(level, name, request)
        } catch {
            throw membershipError(error, operation, group)
        }
    }

    private func sourceMembership(
        _ join: Bool,
        _ operation: UDPError.Operation,
        _ level: CInt,
        _ index: UInt32,
        _ group: IPAddress,
        sourceAddress: IPAddress
    ) throws(UDPError) {
        let groupAddress = SocketAddress(group, port: 0)
        let source = SocketAddress(sourceAddress, port: 0)
        do throws(UDPError) {
            _ = try retryingInterrupts(operation) {
                groupAddress.withSockAddr { groupPointer, groupLength in
                    source.withSockAddr { sourcePointer, sourceLength in
                        cudp_source_membership(
                            descriptor,
                            level,
                            join ? 1 : 0,
                            index,
                            groupPointer,
                            groupLength,
                            sourcePointer,
                            sourceLength
                        )
                    }
                }
            }
        } catch {
            throw membershipError(error, operation, group)
        }
    }

    private func membershipError(_ error: UDPError, _ operation: UDPError.Operation, _ group: IPAddress) -> UDPError {
        var error = error
        error.operation = operation
        error.detail = "group \(group)"
        if error.errno == .noSuchDevice {
            error.code = .unknownInterface
            error.detail = "group \(group): no such interface, or it has no route for multicast"
        }
        return error
    }

    /// Chooses the interface multicast datagrams leave by (`IP_MULTICAST_IF` / `IPV6_MULTICAST_IF`).
    public func setMulticastInterface(_ interface: MulticastInterface) throws(UDPError) {
        if family == .inet6 {
            if case .address = interface {
                throw UDPError(.invalidArgument, .setOption, detail: "an IPv6 socket needs an interface name or index")
            }
            try setOption(cudp_IPPROTO_IPV6, IPV6_MULTICAST_IF, CInt(interface.index))
        } else {
            do throws(UDPError) {
                _ = try retryingInterrupts(.setOption) {
                    cudp_ipv4_multicast_interface(descriptor, interface.address.value.bigEndian, interface.index)
                }
            } catch {
                var error = error
                if error.errno == .addressNotAvailable || error.errno == .noSuchDevice {
                    error.code = .unknownInterface
                    error.detail = "no local interface \(interface)"
                }
                throw error
            }
        }
    }

    /// The interface index multicast datagrams leave by; 0 when the routing table decides. (IPv6 only: the
    /// IPv4 option cannot be read back as an index on Linux.)
    public var multicastInterfaceIndex: UInt32 {
        get throws(UDPError) { UInt32(try option(cudp_IPPROTO_IPV6, IPV6_MULTICAST_IF, as: CInt.self)) }
    }

    /// The time to live (IPv4) or hop limit (IPv6) of outgoing multicast datagrams; 1, the default, keeps them
    /// on the local link.
    public var multicastHops: Int {
        get throws(UDPError) {
            family == .inet6
                ? Int(try option(cudp_IPPROTO_IPV6, IPV6_MULTICAST_HOPS, as: CInt.self))
                : Int(try option(cudp_IPPROTO_IP, IP_MULTICAST_TTL, as: UInt8.self))
        }
    }
    /// Sets the time to live (IPv4 `IP_MULTICAST_TTL`) or hop limit (IPv6 `IPV6_MULTICAST_HOPS`) of the
    /// multicast datagrams sent from now on: 0 keeps them on this host, 1 (the default) on the local link;
    /// raise it only for groups that routers forward.
    ///
    /// - Throws: `UDPError` with code `.invalidArgument` for a value outside 0...255, or with operation
    ///   `.setOption` when the kernel refuses.
    public func setMulticastHops(_ hops: Int) throws(UDPError) {
        try checkRange(hops, 0...255, "multicast hop limit")
        if family == .inet6 {
            try setOption(cudp_IPPROTO_IPV6, IPV6_MULTICAST_HOPS, CInt(hops))
        } else {
            try setOption(cudp_IPPROTO_IP, IP_MULTICAST_TTL, UInt8(hops))
        }
    }

    /// Whether this host's own multicast datagrams loop back to its own members (on by default).
    public var multicastLoopback: Bool {
        get throws(UDPError) {
            family == .inet6
                ? try boolOption(cudp_IPPROTO_IPV6, IPV6_MULTICAST_LOOP)
                : try option(cudp_IPPROTO_IP, IP_MULTICAST_LOOP, as: UInt8.self) != 0
        }
    }
    /// Turns multicast loopback on or off (`IP_MULTICAST_LOOP` / `IPV6_MULTICAST_LOOP`): whether the
    /// multicast datagrams this socket sends also reach the group's members on this host, itself included.
    /// Turn it off in a peer that listens to the group it sends to, so it does not hear itself; leave it on
    /// to run a sender and a receiver on one machine.
    ///
    /// - Throws: `UDPError` with operation `.setOption` when the kernel refuses.
    public func setMulticastLoopback(_ on: Bool) throws(UDPError) {
        if family == .inet6 {
            try setOption(cudp_IPPROTO_IPV6, IPV6_MULTICAST_LOOP, CInt(on ? 1 : 0))
        } else {
            try setOption(cudp_IPPROTO_IP, IP_MULTICAST_LOOP, UInt8(on ? 1 : 0))
        }
    }

    /// Whether the socket receives the datagrams of groups joined by *other* sockets on the host too
    /// (`IP_MULTICAST_ALL` / `IPV6_MULTICAST_ALL`, Linux; on by default). Turn it off so a socket hears only
    /// the groups it joined itself.
    public var multicastAll: Bool {
        get throws(UDPError) {
            family == .inet6
                ? try boolOption(cudp_IPPROTO_IPV6, cudp_IPV6_MULTICAST_ALL)
                : try boolOption(cudp_IPPROTO_IP, cudp_IP_MULTICAST_ALL)
        }
    }
    /// Turns `IP_MULTICAST_ALL` (and `IPV6_MULTICAST_ALL` on an IPv6 socket) on or off (Linux). Turn it off in
    /// a receiver bound to a wildcard address, so it hears only the groups it joined itself, not those that
    /// any other socket on the host joined on the same port.
    ///
    /// - Throws: `UDPError` with operation `.setOption` when the kernel refuses (on an IPv6 socket, only a
    ///   refusal of the IPv6 option).
    public func setMulticastAll(_ on: Bool) throws(UDPError) {
        if family == .inet6 {
            try setOption(cudp_IPPROTO_IPV6, cudp_IPV6_MULTICAST_ALL, CInt(on ? 1 : 0))
            // A dual-stack socket can receive IPv4 groups too.
            try? setOption(cudp_IPPROTO_IP, cudp_IP_MULTICAST_ALL, CInt(on ? 1 : 0))
        } else {
            try setOption(cudp_IPPROTO_IP, cudp_IP_MULTICAST_ALL, CInt(on ? 1 : 0))
        }
    }
}
