// Pitfall 3: a 64 KB datagram.
//
// One UDP datagram carries at most 65507 bytes over IPv4 (65527 over IPv6), and anything larger than the path's
// MTU (1500 bytes on most Ethernet) is cut into IP fragments, all lost if one is. With Don't Fragment set, the
// send fails instead (EMSGSIZE). This program shows the size check and EMSGSIZE on loopback, then the fix:
// chunks that fit the path. Loopback's MTU is 65536, so nothing fragments there; as root it also builds a
// 1500-byte link between two network namespaces (created and deleted here) and shows the fragments counted.
// usage: pitfall-large-datagrams        (loopback, and as root a namespace pair; a few seconds)
import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 64 KiB message: one byte more than an IP packet can hold, and some 1500 more than a UDP datagram.
let message = (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 7) }

/// What fits one datagram on a 1500-byte Ethernet path: the MTU less 20 bytes of IPv4 header and 8 of UDP.
let ethernetPayload = 1500 - 28

func main() throws {
    print("pitfall 3: a 64 KB datagram")
    let receiver = try UDPSocket(bindingTo: .loopbackV4(port: 0))
    let sender = try UDPSocket(family: .inet)
    try sender.connect(to: try receiver.localAddress)

    print("")
    print("problem: 64 KiB is more than one UDP datagram holds")
    do {
        try sender.send(message)
        print("  send(65536 bytes): unexpectedly sent")
        exit(1)
    } catch {
        print("  send(65536 bytes), refused before any system call:")
        print("    \(error)")
    }
    print("  (an IP packet holds 65535 bytes; less 20 of IPv4 header and 8 of UDP header leaves 65507)")

    try showDontFragmentOverIPv6Loopback()

    print("")
    print("fix: send datagrams that fit the path, numbered so the receiver can put them back together")
    try sender.setPathMTUDiscovery(.do)  // Don't Fragment: a datagram too large fails at once, never fragments
    let (datagrams, reassembled) = try sendInChunks(message, limit: ethernetPayload, from: sender, to: receiver)
    print(
        "  the 65536 bytes as \(datagrams) datagrams of at most \(ethernetPayload) bytes "
            + "(a 1500-byte Ethernet MTU less 28 bytes of headers), Don't Fragment set"
    )
    print("  receiver: all \(datagrams) arrived, reassembled identical: \(reassembled == message)")
    print(
        "  the path MTU, where the kernel knows it: connect, then read pathMTU (IP_MTU); here \(try sender.pathMTU), "
            + "loopback's 65536 capped at IPv4's largest packet"
    )
    print("  (`udp mtu HOST:PORT` probes a path's real MTU, RFC 8899's way)")

    try showFragmentationOverEthernet()
}

/// EMSGSIZE needs a datagram larger than the path MTU but within the protocol's maximum. IPv6 has one on
/// loopback: up to 65527 bytes of payload, but 48 bytes of headers make 65575 > 65536.
func showDontFragmentOverIPv6Loopback() throws {
    print("")
    print("problem: a datagram larger than the path MTU fails with EMSGSIZE when Don't Fragment is set")
    let receiver: UDPSocket
    do {
        receiver = try UDPSocket(bindingTo: .loopbackV6(port: 0))
    } catch {
        print("  skipped: no IPv6 on loopback here (\(error))")
        return
    }
    let sender = try UDPSocket(family: .inet6)
    try sender.connect(to: try receiver.localAddress)  // connected, so the kernel can tell the path MTU
    let largest = Array(message[..<65_527])
    try sender.setPathMTUDiscovery(.do)
    do {
        try sender.send(largest)
        print("  send(65527 bytes) over ::1 with Don't Fragment: unexpectedly sent")
        exit(1)
    } catch {
        print("  send(65527 bytes) over ::1 (MTU 65536) with Don't Fragment (setPathMTUDiscovery(.do)):")
        print("    \(error) (\(errnoName(error)))")
    }
    try sender.setPathMTUDiscovery(.dont)
    try sender.send(largest)
    let whole = try receiver.receive(maximumSize: 65_535, timeout: .seconds(2))
    print(
        "  the same without Don't Fragment: this host cut it into IP fragments; \(whole?.payload.count ?? 0) bytes "
            + "arrived whole here,"
    )
    print("  but on a real network losing any one fragment loses the whole datagram")
}

/// The C name of the error number behind `error`, which is what a C or Python programmer searches for.
func errnoName(_ error: UDPError) -> String {
    switch error.errno {
    case .messageTooLong?: "EMSGSIZE"
    case let other?: "errno \(other.rawValue)"
    case nil: "no errno: refused by the library"
    }
}

do {
    try main()
} catch {
    print("error: \(error)")
    exit(1)
}
