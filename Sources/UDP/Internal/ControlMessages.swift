import CUDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Room for the ancillary data one receive can carry: packet info (v4 or v6), the drop counter, the GRO
/// segment size and the TOS/traffic class byte, with headroom.
let controlBufferSize = 128

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
        }
        header = cudp_cmsg_nxthdr(message, cmsg)
    }
    return segmentSize
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
