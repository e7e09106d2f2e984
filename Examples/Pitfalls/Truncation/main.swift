// Pitfall 2: a 512-byte buffer and a 1400-byte datagram.
//
// A receive reads one whole datagram into the buffer it is given, and the kernel throws away whatever does not
// fit. C's recvfrom and Python's sock.recvfrom(512) return the first 512 bytes and say nothing of the rest. This
// program shows the cut reported with the datagram's real length, then a buffer of the right size.
// usage: pitfall-truncation        (loopback only; under a second)
import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func main() throws {
    print("pitfall 2: a 512-byte buffer and a 1400-byte datagram")
    let receiver = try UDPSocket(bindingTo: .loopbackV4(port: 0))
    let address = try receiver.localAddress
    let sender = try UDPSocket(family: .inet)
    let message = (0..<1400).map { UInt8(truncatingIfNeeded: $0) }

    print("")
    print("problem: a buffer smaller than the datagram keeps its start and drops the rest")
    try sender.send(message, to: address)
    print("  sender: sent \(message.count) bytes to \(address)")
    var small = [UInt8](repeating: 0, count: 512)
    let cut = try small.withUnsafeMutableBytes { buffer in try receiver.receive(into: buffer, timeout: .seconds(2)) }
    guard let cut else {
        print("  receiver: nothing arrived within 2 s")
        exit(1)
    }
    print(
        "  receiver: receive(into: a 512-byte buffer): \(cut.count) bytes kept, isTruncated \(cut.isTruncated), "
            + "length \(cut.length): the last \(cut.length - cut.count) bytes are gone"
    )
    print(
        "  receiver: the bytes kept are the datagram's first 512: \(Array(small[..<cut.count]) == Array(message[..<512]))"
    )
    // The rest is not queued for a second read: UDP is datagrams, not a byte stream as TCP is.
    let rest = try receiver.receive(maximumSize: 65_535, timeout: .milliseconds(200))
    print("  receiver: the next receive(timeout: 0.2 s) found \(rest == nil ? "nothing" : "another datagram"):")
    print("    a datagram is read whole or cut, never in parts")
    print("  (Linux reports the real length only when asked with MSG_TRUNC; this library always asks)")

    print("")
    print("fix: a buffer as large as the largest datagram you accept; 65535 bytes holds any")
    try sender.send(message, to: address)
    guard let whole = try receiver.receive(maximumSize: 65_535, timeout: .seconds(2)) else {
        print("  receiver: nothing arrived within 2 s")
        exit(1)
    }
    print(
        "  receiver: receive(maximumSize: 65535): \(whole.payload.count) bytes, isTruncated \(whole.isTruncated), "
            + "identical to what was sent: \(whole.payload == message)"
    )
    print("  with a smaller, protocol-sized buffer, treat isTruncated as an error: count it and drop the datagram,")
    print("  never parse half a message")
}

do {
    try main()
} catch {
    print("error: \(error)")
    exit(1)
}
