import UDP

#if canImport(Glibc)
import Glibc
#endif

/// Sends an ICMP port unreachable to 127.0.0.1 from a raw socket, as an off-path forger would: it claims that
/// a datagram from `client` to `server` (both IPv4 loopback) was refused, and quotes `quote` as that datagram's
/// first payload bytes. The kernel delivers it to the socket bound at `client`'s port, as it would a real one.
/// Needs root (a raw socket); the message never leaves the loopback interface.
func forgePortUnreachable(from client: SocketAddress, to server: SocketAddress, quoting quote: [UInt8]) throws {
    guard case .v4(let source) = client.unmapped, case .v4(let destination) = server.unmapped else {
        throw UDPError(.unsupported, .send, detail: "the forger speaks IPv4 only")
    }
    let raw = socket(AF_INET, CInt(SOCK_RAW.rawValue), CInt(IPPROTO_ICMP))
    guard raw >= 0 else { throw UDPError(.send, errno: .current) }
    defer { close(raw) }
    func word(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    let quotedLength = UInt16(20 + 8 + quote.count)
    var inner: [UInt8] = [0x45, 0] + word(quotedLength) + [0, 0, 0x40, 0, 64, 17, 0, 0]
    inner += source.ip.bytes + destination.ip.bytes
    inner += word(source.port) + word(destination.port) + word(UInt16(8 + quote.count)) + [0, 0] + quote
    var message: [UInt8] = [3, 3, 0, 0, 0, 0, 0, 0] + inner
    let checksum = internetChecksum(message)
    message[2] = UInt8(checksum >> 8)
    message[3] = UInt8(checksum & 0xFF)
    var to = sockaddr_in()
    to.sin_family = sa_family_t(AF_INET)
    to.sin_addr.s_addr = inet_addr("127.0.0.1")
    let sent = withUnsafePointer(to: &to) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(raw, message, message.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard sent == message.count else { throw UDPError(.send, errno: .current) }
}

/// A port unreachable as the error queue would give it, from 127.0.0.1, about a datagram to `destination` that
/// quoted `quote`: for checking a filter's judgement without a socket.
func portUnreachable(
    to destination: SocketAddress,
    quoting quote: [UInt8],
    origin: DeliveryError.Origin = .icmp
) -> DeliveryError {
    DeliveryError(
        origin: origin,
        kind: .portUnreachable,
        errno: .connectionRefused,
        type: 3,
        code: 3,
        offender: IPAddress("127.0.0.1"),
        destination: destination,
        quotedPayload: quote
    )
}

/// The Internet checksum (RFC 1071) of `bytes`.
private func internetChecksum(_ bytes: [UInt8]) -> UInt16 {
    var sum: UInt32 = 0
    for index in stride(from: 0, to: bytes.count, by: 2) {
        sum += UInt32(bytes[index]) << 8 | UInt32(index + 1 < bytes.count ? bytes[index + 1] : 0)
    }
    while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
    return ~UInt16(sum)
}
