import CUDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Room for the ancillary data one receive can carry: packet info (v4 or v6, 40 bytes), the drop counter, the
/// GRO segment size, the TOS/traffic class byte and the TTL (24 each), and a kernel timestamp (64), with
/// headroom.
let controlBufferSize = 256

/// Reads the ancillary data of one received message into `info`; returns the GRO segment size if present.
@discardableResult
func parseControlMessages(_ message: UnsafeMutablePointer<msghdr>, into info: inout ReceiveInfo) -> Int? {
    guard message.pointee.msg_controllen > 0 else { return nil }
    var segmentSize: Int?
    var header = cudp_cmsg_firsthdr(message)
    while let cmsg = header {
        let level = cmsg.pointee.cmsg_level
        let type = cmsg.pointee.cmsg_type
        let data = UnsafeRawPointer(cudp_cmsg_data(cmsg)!)
        if level == cudp_IPPROTO_IP && type == cudp_IP_PKTINFO {
            let packetInfo = data.loadUnaligned(as: in_pktinfo.self)
            info.destination = .v4(IPv4Address(packetInfo.ipi_addr))
            info.interfaceIndex = UInt32(packetInfo.ipi_ifindex)
        } else if level == cudp_IPPROTO_IPV6 && type == cudp_IPV6_PKTINFO {
            let packetInfo = data.loadUnaligned(as: cudp_in6_pktinfo.self)
            info.destination = IPAddress.v6(IPv6Address(packetInfo.ipi6_addr)).unmapped
            info.interfaceIndex = UInt32(packetInfo.ipi6_ifindex)
        } else if level == SOL_SOCKET && type == cudp_SO_RXQ_OVFL {
            info.kernelDropCount = data.loadUnaligned(as: UInt32.self)
        } else if level == cudp_IPPROTO_UDP && type == cudp_UDP_GRO {
            segmentSize = Int(data.loadUnaligned(as: CInt.self))
        } else if level == SOL_SOCKET && type == cudp_SO_TIMESTAMPING {
            info.timestamp = softwareTimestamp(data)
        }
        header = cudp_cmsg_nxthdr(message, cmsg)
    }
    return segmentSize
}

/// The software stamp of a `struct scm_timestamping` (three `timespec`s, the first one software), in
/// nanoseconds since 1970; nil when it is zero (the kernel took none).
func softwareTimestamp(_ data: UnsafeRawPointer) -> UInt64? {
    let stamp = data.loadUnaligned(as: timespec.self)
    guard stamp.tv_sec > 0 || stamp.tv_nsec > 0 else { return nil }
    return UInt64(stamp.tv_sec) * 1_000_000_000 + UInt64(stamp.tv_nsec)
}

/// The GRO segment size of a received train, or 0: the hot path's only look at the ancillary data.
func receivedSegmentSize(_ message: UnsafeMutablePointer<msghdr>) -> Int {
    var header = cudp_cmsg_firsthdr(message)
    while let cmsg = header {
        if cmsg.pointee.cmsg_level == cudp_IPPROTO_UDP && cmsg.pointee.cmsg_type == cudp_UDP_GRO {
            return Int(UnsafeRawPointer(cudp_cmsg_data(cmsg)!).loadUnaligned(as: CInt.self))
        }
        header = cudp_cmsg_nxthdr(message, cmsg)
    }
    return 0
}

/// Writes a `UDP_SEGMENT` control message for a GSO send into `control`; returns its length.
func writeSegmentSize(_ size: Int, to control: UnsafeMutableRawPointer) -> Int {
    let space = cudp_cmsg_space(MemoryLayout<UInt16>.size)
    control.initializeMemory(as: UInt8.self, repeating: 0, count: space)
    let header = control.assumingMemoryBound(to: cmsghdr.self)
    header.pointee.cmsg_level = cudp_IPPROTO_UDP
    header.pointee.cmsg_type = cudp_UDP_SEGMENT
    header.pointee.cmsg_len = numericCast(cudp_cmsg_len(MemoryLayout<UInt16>.size))
    UnsafeMutableRawPointer(cudp_cmsg_data(header)!).storeBytes(of: UInt16(size), as: UInt16.self)
    return space
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
    var timestamp: UInt64?
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
