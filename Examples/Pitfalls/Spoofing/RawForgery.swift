import UDP

#if canImport(Glibc)
import Glibc
#endif

/// Sends `payload` to `destination` in a UDP datagram whose source is `source`, an address this program does
/// not own: a raw socket writes the IP and UDP headers itself, so it can write any source it likes. Root only
/// (`CAP_NET_RAW`), and IPv4 loopback only here.
///
/// - Returns: False when this process may not open a raw socket.
func sendForged(_ payload: [UInt8], from source: SocketAddress, to destination: SocketAddress) throws -> Bool {
    guard case .v4(let from) = source, case .v4(let to) = destination else { return false }
    // IPPROTO_RAW implies IP_HDRINCL: the packet below goes out as it is, headers and all.
    let raw = socket(AF_INET, CInt(SOCK_RAW.rawValue), CInt(IPPROTO_RAW))
    guard raw >= 0 else { return false }
    defer { close(raw) }

    let udpLength = 8 + payload.count
    var packet: [UInt8] = [
        0x45, 0,  // IPv4, a 20-byte header; no type of service
        UInt8((20 + udpLength) >> 8), UInt8((20 + udpLength) & 0xFF),  // total length
        0, 0, 0, 0,  // identification (the kernel fills it in), no fragmentation
        64, UInt8(IPPROTO_UDP),  // time to live, protocol
        0, 0,  // header checksum: the kernel always computes it for a raw socket
    ]
    packet += from.ip.bytes + to.ip.bytes
    packet += [UInt8(from.port >> 8), UInt8(from.port & 0xFF), UInt8(to.port >> 8), UInt8(to.port & 0xFF)]
    packet += [UInt8(udpLength >> 8), UInt8(udpLength & 0xFF), 0, 0]  // UDP checksum 0: none, allowed over IPv4
    packet += payload

    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = to.ip.value.bigEndian
    let sent = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(raw, packet, packet.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard sent == packet.count else { throw UDPError(.send, errno: .current, address: destination) }
    return true
}
