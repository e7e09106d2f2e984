// An RFC 862 echo server on the async layer: each datagram goes back to its sender unchanged.
// usage: example-async-echo [--host H] [--port P] [--gro] [--vector-reads N]
//   --host H            the IP address to listen on (default 127.0.0.1; :: for dual-stack)
//   --port P            0 (the default) lets the kernel pick; the port is printed first: `listening on udp/PORT`
//   --gro               UDP GRO on receive; each coalesced train is answered with one GSO send
//   --vector-reads N    datagrams per recvmmsg call (default 64; 0 reads one at a time)
//
// The echo costs no copy: a reply is the received ByteBuffer slice, addressed with NIO's copy of the sender.
// The replies to one read batch leave in one write and one flush, as from a NIO handler's channelReadComplete,
// and the loop runs on the socket's event loop thread, so no batch crosses threads.
import UDP
import UDPAsync

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One line on stderr (the C `stderr` global is not concurrency-safe to name in Swift 6).
func printError(_ message: String) {
    let line = "example-async-echo: \(message)\n"
    _ = line.utf8CString.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
}

func fail(_ message: String) -> Never {
    printError(message)
    exit(64)
}

var host = IPAddress.v4(.loopback)
var port: UInt16 = 0
var configuration = AsyncUDPSocket.Configuration()
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--host":
        guard let text = arguments.next(), let address = IPAddress(text) else { fail("--host needs an IP address") }
        host = address
    case "--port":
        guard let text = arguments.next(), let number = UInt16(text) else { fail("--port needs a number 0-65535") }
        port = number
    case "--gro":
        configuration.receiveOffload = true
    case "--vector-reads":
        guard let text = arguments.next(), let count = Int(text), count >= 0 else {
            fail("--vector-reads needs a count, 0 or more")
        }
        configuration.vectorReadMessageCount = count
    case "-h", "--help":
        print("usage: example-async-echo [--host H] [--port P] [--gro] [--vector-reads N]")
        exit(0)
    default:
        fail("unknown argument '\(argument)'")
    }
}

/// The echo loop. It runs on the socket's event loop thread (its task prefers that executor), so a read batch is
/// handed over and answered without crossing threads; the loop body only awaits, it never blocks.
func serve(_ socket: AsyncUDPSocket) async throws {
    try await withTaskExecutorPreference(socket.eventLoopExecutor) {
        try await socket.executeThenClose { inbound, outbound in
            for try await batch in inbound.batches {
                try await outbound.send(contentsOf: batch.map { OutboundDatagram(replyingTo: $0) })
            }
        }
    }
}

do {
    let socket = try await AsyncUDPSocket.bind(to: SocketAddress(host, port: port), configuration: configuration)
    print("listening on udp/\(socket.localAddress.port)")
    fflush(nil)  // so a script reading the pipe sees the port at once
    try await serve(socket)
} catch {
    printError("\(error)")
    exit(1)
}
