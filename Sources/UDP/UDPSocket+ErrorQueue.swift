import CUDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The error queue: ICMP errors (and local ones) as typed events, on connected and unconnected sockets alike.
//
// Linux keeps one error per socket (`SO_ERROR`) for a plain socket, and only for a connected one; with
// `IP_RECVERR` it also queues every error with the ICMP message's details, readable with `MSG_ERRQUEUE`. Three
// pitfalls come with it, and this file handles them:
// - the kernel still fails the next send or receive once with the error (quinn-rs/quinn#2704): a send that
//   fails so never left, and is retried once; a receive that fails so reports the queued event instead;
// - a non-empty queue keeps poll(2)'s `POLLERR` up, so a loop that waits for readability spins (libuv#4447)
//   until the queue is read: the timed receive reads it, and event loops must too;
// - queued errors count against the receive buffer until read.
extension UDPSocket {
    /// Whether ICMP errors are queued for ``receiveError()`` (`IP_RECVERR`, or `IPV6_RECVERR` on an IPv6
    /// socket).
    public var receivesErrors: Bool {
        get throws(UDPError) {
            family == .inet
                ? try boolOption(cudp_IPPROTO_IP, cudp_IP_RECVERR)
                : try boolOption(cudp_IPPROTO_IPV6, cudp_IPV6_RECVERR)
        }
    }

    /// Queues the ICMP errors that datagrams from this socket draw (port, host or network unreachable, packet
    /// too big, time exceeded…) as ``DeliveryError`` events, on a connected or an unconnected socket.
    ///
    /// With it on:
    /// - read the queue with ``receiveError()`` whenever poll(2) reports `POLLERR` on the socket; a queue
    ///   left unread keeps `POLLERR` up and takes room from the receive buffer;
    /// - the timed receives (``receive(into:timeout:)``) throw the next queued error as a `UDPError` whose
    ///   ``UDPError/deliveryError`` says who sent it; so does a receive that the kernel fails because of one;
    /// - a send that the kernel fails because of an earlier error is sent again, once: it never left.
    ///
    /// An IPv6 socket sets both `IPV6_RECVERR` and `IP_RECVERR`, so that a dual-stack socket hears about its
    /// IPv4 peers too.
    ///
    /// The corresponding C options are `IP_RECVERR` and `IPV6_RECVERR` (Linux only).
    public func setReceiveErrors(_ on: Bool) throws(UDPError) {
        guard cudp_IP_RECVERR >= 0 else {
            throw UDPError(.unsupported, .setOption, detail: "the error queue (IP_RECVERR) needs Linux")
        }
        try setOption(cudp_IPPROTO_IP, cudp_IP_RECVERR, CInt(on ? 1 : 0))
        if family == .inet6 { try setOption(cudp_IPPROTO_IPV6, cudp_IPV6_RECVERR, CInt(on ? 1 : 0)) }
    }

    /// Reads the oldest error from the error queue, without waiting.
    ///
    /// Other entries of the queue (send timestamps) are read and dropped: with send timestamps on, read it with
    /// ``receiveErrorQueue()`` instead.
    ///
    /// - Returns: The error, or nil when the queue is empty (or off).
    ///
    /// The corresponding C call is `recvmsg(2)` with `MSG_ERRQUEUE`.
    public func receiveError() throws(UDPError) -> DeliveryError? {
        guard cudp_MSG_ERRQUEUE != 0 else { return nil }
        while true {
            switch try readErrorQueue() {
            case .empty: return nil
            case .delivery(let event): return event
            case .sendTimestamp, .unknown: continue  // not an error
            }
        }
    }

    /// Reads the oldest entry of the error queue, without waiting: an error, or a send timestamp.
    ///
    /// - Returns: The entry, or nil when the queue is empty.
    public func receiveErrorQueue() throws(UDPError) -> ErrorQueueEvent? {
        guard cudp_MSG_ERRQUEUE != 0 else { return nil }
        while true {
            switch try readErrorQueue() {
            case .empty: return nil
            case .delivery(let event): return .deliveryError(event)
            case .sendTimestamp(let stamp): return .sendTimestamp(stamp)
            case .unknown: continue  // a zero-copy notice, or a stamp of a kind never asked for
            }
        }
    }

    /// What one read of the error queue found.
    enum ErrorQueueEntry {
        case empty
        case delivery(DeliveryError)
        case sendTimestamp(SendTimestamp)
        case unknown
    }

    /// Reads one entry of the error queue.
    func readErrorQueue() throws(UDPError) -> ErrorQueueEntry {
        var storage = sockaddr_storage()
        return try withUnsafeMutableBytes(of: &storage) { (name) throws(UDPError) -> ErrorQueueEntry in
            try withUnsafeTemporaryAllocation(byteCount: DeliveryError.quoteLimit, alignment: 16) {
                (quote) throws(UDPError) -> ErrorQueueEntry in
                try withUnsafeTemporaryAllocation(byteCount: errorControlBufferSize, alignment: 16) {
                    (control) throws(UDPError) -> ErrorQueueEntry in
                    var vector = iovec(iov_base: quote.baseAddress, iov_len: quote.count)
                    var message = msghdr()
                    message.msg_name = name.baseAddress
                    message.msg_namelen = socklen_t(name.count)
                    message.msg_control = control.baseAddress
                    message.msg_controllen = numericCast(control.count)
                    let length: Int
                    do throws(UDPError) {
                        length = try withUnsafeMutablePointer(to: &vector) { (vectorPointer) throws(UDPError) in
                            message.msg_iov = vectorPointer
                            message.msg_iovlen = 1
                            return try retryingInterrupts(.receive) {
                                recvmsg(descriptor, &message, cudp_MSG_ERRQUEUE | cudp_MSG_DONTWAIT)
                            }
                        }
                    } catch {
                        if error.errno == .wouldBlock { return .empty }
                        throw error
                    }
                    let destination =
                        SocketAddress(storage: name.baseAddress!, length: message.msg_namelen) ?? .any(family)
                    let quoted = Array(UnsafeRawBufferPointer(rebasing: quote[..<min(length, quote.count)]))
                    return parseErrorQueueMessage(&message, destination: destination, quoted: quoted)
                }
            }
        }
    }

    /// The errors the kernel takes from an ICMP message (`icmp_err_convert`, `icmpv6_err_convert`) and fails
    /// the next call with once the error queue is on.
    static func isFromICMP(_ errno: Errno?) -> Bool {
        guard let errno else { return false }
        return errorsFromICMP.contains(errno)
    }

    private static let errorsFromICMP: Set<Errno> = [
        .connectionRefused, .hostUnreachable, .networkUnreachable, .messageTooLong, .permissionDenied,
        Errno(rawValue: EPROTO), Errno(rawValue: ENOPROTOOPT), Errno(rawValue: EHOSTDOWN), Errno(rawValue: ENONET),
        Errno(rawValue: EOPNOTSUPP),
    ]

    /// What a receive that failed with `error` should do: nil to try again (the error was the socket's pending
    /// one, and its event has been read already), else the error to throw, with the queued event when there
    /// is one.
    func receiveFailure(_ error: UDPError) -> UDPError? {
        guard Self.isFromICMP(error.errno) else { return error }
        if let event = try? receiveError() { return UDPError(event, operation: error.operation) }
        return (try? receivesErrors) == true ? nil : error
    }

    /// Runs a receive `call` until it fails for a reason of its own: a failure that only carried the socket's
    /// pending error, whose event was read already, is retried (see ``receiveFailure(_:)``).
    @inline(__always)
    func receivingPastPendingErrors<T>(_ call: () throws(UDPError) -> T) throws(UDPError) -> T {
        while true {
            do throws(UDPError) {
                return try call()
            } catch {
                guard let failure = receiveFailure(error) else { continue }
                throw failure
            }
        }
    }

    /// Runs a send `call` of a `size`-byte datagram, and once more when the kernel failed it with the error of
    /// an earlier datagram (with the error queue on, the pending error fails the next send, which then never
    /// left; the queue keeps the event).
    ///
    /// `EMSGSIZE` is ambiguous: it is also the send's own refusal of a datagram over the path MTU, which queues
    /// a local event each time, so a retry would queue it twice. It is retried only for a datagram that fits
    /// the smallest path MTU Linux accepts (552 bytes for IPv4, 1280 for IPv6), which it cannot have refused.
    @inline(__always)
    func sendRetryingPendingError<T: FixedWidthInteger>(
        address: SocketAddress? = nil,
        size: Int,
        _ call: () -> T
    ) throws(UDPError) -> T {
        do throws(UDPError) {
            return try retryingInterrupts(.send, address: address, call)
        } catch {
            guard Self.isFromICMP(error.errno), (try? receivesErrors) == true else { throw error }
            if error.errno == .messageTooLong && size > payloadUnderAnyPathMTU(to: address) { throw error }
            return try retryingInterrupts(.send, address: address, call)
        }
    }

    /// The largest payload that no path MTU refuses: Linux never takes a path MTU below 552 bytes for IPv4
    /// (`min_pmtu`) or 1280 for IPv6.
    func payloadUnderAnyPathMTU(to address: SocketAddress?) -> Int {
        let overIPv4 = family == .inet || address?.family == .inet || address?.isV4Mapped == true
        return overIPv4 ? 552 - 28 : 1280 - 48
    }
}

extension UDPError {
    /// The error for a queued ``DeliveryError``: classified by its errno, naming the datagram's destination.
    public init(_ event: DeliveryError, operation: Operation) {
        self.init(operation, errno: event.errno, address: event.destination)
        deliveryError = event
        if case .packetTooBig(let mtu) = event.kind { pathMTU = mtu }
        if case .messageTooLarge(let mtu) = event.kind { pathMTU = mtu }
    }
}
