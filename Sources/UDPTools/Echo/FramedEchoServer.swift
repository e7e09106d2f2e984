import UDP
import UDPPatterns

/// The engine of `udp echo --framed`: answers UDPPatterns' framed requests through an `IdempotentServer`,
/// a datagram at a time, so a retried request id is answered from the reply cache and the reply is
/// computed once per request.
///
/// It interoperates with `udp send --framed`, `RequestReplyClient` and UDPAsync's
/// `AsyncRequestReplyClient`.
public struct FramedEchoServer {
    /// What happened to one datagram, for a caller that logs.
    public enum Event {
        /// A framed request from `peer`, `size` bytes, was answered (from the cache or not).
        case answered(peer: SocketAddress, size: Int)
        /// A datagram from `peer` that is not a framed request: nothing was sent back.
        case notFramed(peer: SocketAddress)
    }

    /// Datagrams received, replied and failed (not framed, or the send failed).
    public private(set) var counters = Reflector.Counters()
    private var server: IdempotentServer<SocketAddress>
    private let prefix: [UInt8]
    private var buffer = [UInt8](repeating: 0, count: 65_535)

    /// Requests that ran the handler and that were answered from the cache.
    public var cacheCounters: IdempotentServer<SocketAddress>.Counters { server.counters }

    /// - Parameters:
    ///   - prefix: Bytes put before each reply payload.
    ///   - timeToLive: How long a reply stays in the cache for retries of its request.
    public init(prefix: [UInt8] = [], timeToLive: Duration = .seconds(30)) {
        self.prefix = prefix
        server = IdempotentServer(timeToLive: timeToLive)
    }

    /// Answers framed requests on `socket` until `stop` is requested, sleeping in `poll(2)` while none
    /// arrive; its receives never wait, whatever the socket's mode. On a socket bound to a wildcard address
    /// each reply goes out from the address its request was sent to
    /// (``Reflector/answerFromTheAddressAsked(on:)``, which this calls first).
    ///
    /// - Parameters:
    ///   - socket: The server's socket.
    ///   - stop: Ends the run when requested.
    ///   - reportInterval: How often, in nanoseconds, `report` is called; nil never.
    ///   - report: Called about every `reportInterval` with this server (for `--stats`).
    ///   - onEvent: Called for every datagram.
    public mutating func run(
        _ socket: borrowing UDPSocket,
        until stop: StopSignal,
        reportInterval: UInt64? = nil,
        report: (borrowing FramedEchoServer) -> Void = { _ in },
        onEvent: (Event) -> Void = { _ in }
    ) throws(UDPError) {
        try Reflector.answerFromTheAddressAsked(on: socket)
        var reports = ReportClock(interval: reportInterval)
        while !stop.isRequested {
            if reports.isDue() { report(self) }
            let received = buffer.withUnsafeMutableBytes { bytes in
                Result { () throws(UDPError) in try socket.receiveIfQueued(into: bytes) }
            }
            let info: ReceiveInfo
            switch received {
            case .success(let value?):
                info = value
            case .success(nil):
                _ = try stop.wait(forReadable: socket.descriptor, until: reports.deadline)
                continue
            case .failure(let error) where error.code == .connectionRefused:
                continue  // an ICMP error left by an earlier reply: it concerns no datagram now queued
            case .failure(let error):
                throw error
            }
            answer(info, socket, onEvent)
        }
    }

    private mutating func answer(_ info: ReceiveInfo, _ socket: borrowing UDPSocket, _ onEvent: (Event) -> Void) {
        counters.received += 1
        let prefix = prefix
        let reply = server.respond(to: buffer[..<info.count], from: info.sender, now: .now) { prefix + $0 }
        guard let reply else {
            counters.failed += 1
            onEvent(.notFramed(peer: info.sender))
            return
        }
        onEvent(.answered(peer: info.sender, size: info.count))
        do throws(UDPError) {
            try socket.send(reply, replyingTo: info)
            counters.replied += 1
        } catch {
            counters.failed += 1
        }
    }
}
