import CUDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Room for the ancillary data one message can carry. A receive on a dual-stack socket with every option on
/// gets, for an IPv4 datagram, both packet infos (32 + 40 bytes), the TTL, the drop counter, the GRO segment
/// size and the TOS byte (24 each), and a kernel timestamp (64): 232 bytes. A send carries packet info and a
/// GSO segment size (64 at most).
let controlBufferSize = 256

/// Where a datagram goes out from: the source address (and interface) a send asks for with `IP_PKTINFO` or
/// `IPV6_PKTINFO`, in the form the destination needs. An IPv4 source (`ipi_spec_dst`) leaves the interface
/// to routing unless one is given; an IPv6 link-local source needs its interface.
struct PacketSource: Hashable, Sendable {
    var address: IPAddress
    var interfaceIndex: UInt32

    /// The source for a datagram to `destination`: IPv4 (unmapped) when the destination is reached over IPv4,
    /// a v4-mapped one included; nil when `address` is of the other family.
    init?(_ address: IPAddress, interfaceIndex: UInt32?, to destination: SocketAddress) {
        let overIPv4 = destination.family == .inet || destination.isV4Mapped
        switch address.unmapped {
        case .v4 where !overIPv4, .v6 where overIPv4: return nil
        case let source: self.address = source
        }
        self.interfaceIndex = interfaceIndex ?? 0
    }

    init(address: IPAddress, interfaceIndex: UInt32) {
        self.address = address
        self.interfaceIndex = interfaceIndex
    }
}

/// What one walk over a received message's ancillary data found.
struct ReceivedControl {
    /// The GRO segment size of a train, or 0.
    var segmentSize = 0
    /// The packet info's destination, unmapped, and the arrival interface.
    var destination: IPAddress?
    var interfaceIndex: UInt32?
    /// IPv4 only (`ipi_spec_dst`): the local address the kernel would answer from, which is the destination
    /// for unicast and an address of the receiving interface for broadcast and multicast.
    var specificDestination: IPv4Address?
    var kernelDropCount: UInt32?
    var hopLimit: UInt8?
    var timestamp: WallClockTime?

    init(_ message: UnsafeMutablePointer<msghdr>) {
        guard message.pointee.msg_controllen > 0 else { return }
        var header = cudp_cmsg_firsthdr(message)
        while let cmsg = header {
            let level = cmsg.pointee.cmsg_level
            let type = cmsg.pointee.cmsg_type
            let data = UnsafeRawPointer(cudp_cmsg_data(cmsg)!)
            if level == cudp_IPPROTO_UDP && type == cudp_UDP_GRO {
                segmentSize = Int(data.loadUnaligned(as: CInt.self))
            } else if level == cudp_IPPROTO_IP && type == cudp_IP_PKTINFO {
                let packetInfo = data.loadUnaligned(as: in_pktinfo.self)
                destination = .v4(IPv4Address(packetInfo.ipi_addr))
                specificDestination = IPv4Address(packetInfo.ipi_spec_dst)
                interfaceIndex = UInt32(packetInfo.ipi_ifindex)
            } else if level == cudp_IPPROTO_IPV6 && type == cudp_IPV6_PKTINFO {
                let packetInfo = data.loadUnaligned(as: cudp_in6_pktinfo.self)
                destination = IPAddress.v6(IPv6Address(packetInfo.ipi6_addr)).unmapped
                interfaceIndex = UInt32(packetInfo.ipi6_ifindex)
            } else if level == SOL_SOCKET && type == cudp_SO_RXQ_OVFL {
                kernelDropCount = data.loadUnaligned(as: UInt32.self)
            } else if (level == cudp_IPPROTO_IP && type == cudp_IP_TTL)
                || (level == cudp_IPPROTO_IPV6 && type == cudp_IPV6_HOPLIMIT)
            {
                // Both are an int, whatever the header field's width.
                hopLimit = UInt8(truncatingIfNeeded: data.loadUnaligned(as: CInt.self))
            } else if level == SOL_SOCKET && type == cudp_SO_TIMESTAMPING {
                timestamp = softwareTimestamp(data)
            }
            header = cudp_cmsg_nxthdr(message, cmsg)
        }
    }

    /// The source a reply should go out from, or nil to let the kernel choose: never a multicast or
    /// broadcast address, which cannot be a source.
    var replySource: PacketSource? {
        switch destination {
        case .v4(let address)?:
            // A dual-stack socket reports IPv4 datagrams in IPV6_PKTINFO (v4-mapped) too, but only IP_PKTINFO
            // says which local address stands for a broadcast.
            if let specific = specificDestination, !specific.isUnspecified {
                return PacketSource(address: .v4(specific), interfaceIndex: 0)
            }
            guard !address.isMulticast && !address.isLimitedBroadcast else { return nil }
            return PacketSource(address: .v4(address), interfaceIndex: 0)
        case .v6(let address)?:
            guard !address.isMulticast else { return nil }
            // Only a link-local source needs the interface; pinning a global one would defeat routing.
            return PacketSource(address: .v6(address), interfaceIndex: address.isLinkLocal ? interfaceIndex ?? 0 : 0)
        case nil:
            return nil
        }
    }
}

/// Reads the ancillary data of one received message into `info`.
func parseControlMessages(_ message: UnsafeMutablePointer<msghdr>, into info: inout ReceiveInfo) {
    guard message.pointee.msg_controllen > 0 else { return }
    let control = ReceivedControl(message)
    info.destination = control.destination
    info.interfaceIndex = control.interfaceIndex
    info.replySource = control.replySource?.address
    info.kernelDropCount = control.kernelDropCount
    info.hopLimit = control.hopLimit
    info.timestamp = control.timestamp
}

/// The software stamp of a `struct scm_timestamping` (three `timespec`s, the first one software), a
/// wall-clock time; nil when it is zero (the kernel took none).
func softwareTimestamp(_ data: UnsafeRawPointer) -> WallClockTime? {
    let stamp = data.loadUnaligned(as: timespec.self)
    guard stamp.tv_sec > 0 || stamp.tv_nsec > 0 else { return nil }
    return WallClockTime(nanosecondsSince1970: UInt64(stamp.tv_sec) * 1_000_000_000 + UInt64(stamp.tv_nsec))
}

/// Writes one control message carrying `payload` into `control`; returns the space it takes.
private func writeControlMessage<T>(
    level: CInt,
    type: CInt,
    _ payload: T,
    to control: UnsafeMutableRawPointer
) -> Int {
    let space = cudp_cmsg_space(MemoryLayout<T>.size)
    control.initializeMemory(as: UInt8.self, repeating: 0, count: space)
    let header = control.assumingMemoryBound(to: cmsghdr.self)
    header.pointee.cmsg_level = level
    header.pointee.cmsg_type = type
    // The kernel wants IP_PKTINFO's length exact: the header and the struct, without the padding after it.
    header.pointee.cmsg_len = numericCast(cudp_cmsg_len(MemoryLayout<T>.size))
    // A C struct holding a union (in6_addr) is not BitwiseCopyable to Swift, so copy its bytes.
    withUnsafeBytes(of: payload) {
        UnsafeMutableRawPointer(cudp_cmsg_data(header)!).copyMemory(from: $0.baseAddress!, byteCount: $0.count)
    }
    return space
}

/// Writes a `UDP_SEGMENT` control message for a GSO send into `control`; returns its length.
func writeSegmentSize(_ size: Int, to control: UnsafeMutableRawPointer) -> Int {
    writeControlMessage(level: cudp_IPPROTO_UDP, type: cudp_UDP_SEGMENT, UInt16(size), to: control)
}

/// Writes the `IP_PKTINFO` or `IPV6_PKTINFO` control message that sends from `source` into `control`;
/// returns its length.
///
/// An IPv4 source goes in `IP_PKTINFO` at `SOL_IP` even on an IPv6 socket sending to a v4-mapped peer: Linux
/// takes it there, and `ipi_spec_dst` sets the source while leaving the route to the routing table.
func writePacketSource(_ source: PacketSource, to control: UnsafeMutableRawPointer) -> Int {
    switch source.address {
    case .v4(let address):
        var info = in_pktinfo()
        info.ipi_ifindex = CInt(bitPattern: source.interfaceIndex)
        info.ipi_spec_dst = address.cAddress
        return writeControlMessage(level: cudp_IPPROTO_IP, type: cudp_IP_PKTINFO, info, to: control)
    case .v6(let address):
        let info = cudp_in6_pktinfo(ipi6_addr: address.cAddress, ipi6_ifindex: source.interfaceIndex)
        return writeControlMessage(level: cudp_IPPROTO_IPV6, type: cudp_IPV6_PKTINFO, info, to: control)
    }
}

/// Room for what an error-queue read carries: the extended error with its offender's address, and whatever
/// packet info, TTL or timestamps the socket asks for besides.
let errorControlBufferSize = 256

/// The `sock_extended_err` origins this library decodes (`SO_EE_ORIGIN_*`).
private let originLocal: UInt8 = 1
private let originICMP: UInt8 = 2
private let originICMPv6: UInt8 = 3

/// Decodes an error-queue message: an ICMP or local error (`IP_RECVERR` / `IPV6_RECVERR`), or a send
/// timestamp; `.unknown` for anything else (a zero-copy notice).
func parseErrorQueueMessage(
    _ message: UnsafeMutablePointer<msghdr>,
    destination: SocketAddress,
    quoted: [UInt8]
) -> UDPSocket.ErrorQueueEntry {
    var timestamp: WallClockTime?
    var header = cudp_cmsg_firsthdr(message)
    while let cmsg = header {
        if cmsg.pointee.cmsg_level == SOL_SOCKET && cmsg.pointee.cmsg_type == cudp_SO_TIMESTAMPING {
            timestamp = softwareTimestamp(UnsafeRawPointer(cudp_cmsg_data(cmsg)!))
        }
        header = cudp_cmsg_nxthdr(message, cmsg)
    }
    header = cudp_cmsg_firsthdr(message)
    while let cmsg = header {
        defer { header = cudp_cmsg_nxthdr(message, cmsg) }
        let level = cmsg.pointee.cmsg_level
        let type = cmsg.pointee.cmsg_type
        guard
            (level == cudp_IPPROTO_IP && type == cudp_IP_RECVERR)
                || (level == cudp_IPPROTO_IPV6 && type == cudp_IPV6_RECVERR)
        else { continue }
        // struct sock_extended_err: ee_errno (u32), ee_origin, ee_type, ee_code, ee_pad (u8 each), ee_info (u32),
        // ee_data (u32); the offender's sockaddr follows it (SO_EE_OFFENDER), AF_UNSPEC when there is none.
        let extendedErrorSize = 16
        let dataLength = Int(cmsg.pointee.cmsg_len) - cudp_cmsg_len(0)
        guard dataLength >= extendedErrorSize else { return .unknown }
        let data = UnsafeRawPointer(cudp_cmsg_data(cmsg)!)
        let errno = Errno(rawValue: CInt(data.loadUnaligned(as: UInt32.self)))
        let origin = data.load(fromByteOffset: 4, as: UInt8.self)
        let icmpType = data.load(fromByteOffset: 5, as: UInt8.self)
        let icmpCode = data.load(fromByteOffset: 6, as: UInt8.self)
        let info = data.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        if CInt(origin) == cudp_SO_EE_ORIGIN_TIMESTAMPING {
            // A send stamp: ee_info says which (only the software "sent" stamp is asked for), ee_data numbers
            // the datagram (SOF_TIMESTAMPING_OPT_ID).
            guard CInt(info) == cudp_SCM_TSTAMP_SND, let timestamp else { return .unknown }
            let id = data.loadUnaligned(fromByteOffset: 12, as: UInt32.self)
            return .sendTimestamp(SendTimestamp(id: id, time: timestamp))
        }
        let offender = SocketAddress(
            storage: data + extendedErrorSize,
            length: socklen_t(dataLength - extendedErrorSize)
        )?.unmapped.ip
        let kind: DeliveryError.Kind
        let decodedOrigin: DeliveryError.Origin
        switch origin {
        case originICMP:
            decodedOrigin = .icmp
            kind = .init(icmpType: icmpType, code: icmpCode, info: info)
        case originICMPv6:
            decodedOrigin = .icmpv6
            kind = .init(icmpv6Type: icmpType, code: icmpCode, info: info)
        case originLocal:
            decodedOrigin = .local
            kind = errno == .messageTooLong ? .messageTooLarge(mtu: Int(info)) : .other(type: 0, code: 0)
        default:
            return .unknown
        }
        return .delivery(
            DeliveryError(
                origin: decodedOrigin,
                kind: kind,
                errno: errno,
                type: icmpType,
                code: icmpCode,
                offender: offender,
                destination: destination,
                quotedPayload: decodedOrigin == .local ? [] : quoted
            )
        )
    }
    return .unknown
}
