import CUDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension UDPSocket {
    /// Receives one datagram into `buffer`, reporting its sender and whether it was truncated.
    ///
    /// - Parameter buffer: Where the payload goes; the kernel drops bytes past `buffer.count`, and the result
    ///   says so (``ReceiveInfo/isTruncated``, with the real ``ReceiveInfo/length``): never silently.
    /// - Returns: The bytes stored, the datagram's real length, the peer and any packet info.
    /// - Throws: `UDPError` with code `.timedOut` when the receive timeout passes first, `.wouldBlock` on a
    ///   non-blocking socket with nothing queued, `.connectionRefused` on a connected socket whose peer
    ///   answered an earlier datagram with ICMP port unreachable.
    ///
    /// The corresponding C function is `recvmsg(2)`, with `MSG_TRUNC` so Linux reports the real length.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(UDPError) -> ReceiveInfo {
        try receiveMessage(into: buffer, flags: receiveFlags)
    }

    /// Receives one datagram with `flags` (`MSG_DONTWAIT` for a call that must not wait).
    func receiveMessage(
        into buffer: UnsafeMutableRawBufferPointer,
        flags: CInt
    ) throws(UDPError)
        -> ReceiveInfo
    {
        var storage = sockaddr_storage()
        return try withUnsafeMutableBytes(of: &storage) { (name) throws(UDPError) -> ReceiveInfo in
            try withUnsafeTemporaryAllocation(byteCount: controlBufferSize, alignment: 16) {
                (control) throws(UDPError) -> ReceiveInfo in
                var vector = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
                return try withUnsafeMutablePointer(to: &vector) { (vectorPointer) throws(UDPError) -> ReceiveInfo in
                    var message = msghdr()
                    message.msg_name = name.baseAddress
                    message.msg_namelen = socklen_t(name.count)
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = control.baseAddress
                    message.msg_controllen = numericCast(control.count)
                    let length: Int
                    do throws(UDPError) {
                        length = try receivingPastPendingErrors { () throws(UDPError) in
                            message.msg_namelen = socklen_t(name.count)
                            message.msg_controllen = numericCast(control.count)
                            return try retryingInterrupts(.receive) { recvmsg(descriptor, &message, flags) }
                        }
                    } catch  where error.errno == .wouldBlock {
                        throw againError(.receive, flags: flags)
                    }
                    let truncated = message.msg_flags & cudp_MSG_TRUNC != 0
                    let sender =
                        SocketAddress(storage: name.baseAddress!, length: message.msg_namelen)
                        ?? .any(family)  // only for an unnamed sender, which UDP does not produce
                    var info = ReceiveInfo(
                        count: min(length, buffer.count),
                        length: length,
                        sender: sender,
                        isTruncated: truncated
                    )
                    parseControlMessages(&message, into: &info)
                    return info
                }
            }
        }
    }

    /// Receives one datagram into a new array: convenient, one allocation per call.
    ///
    /// - Parameter maximumSize: The largest datagram kept whole; a longer one is returned truncated, and says
    ///   so. The default holds any IPv4 or IPv6 datagram.
    public func receive(maximumSize: Int = 65_535) throws(UDPError) -> Datagram {
        var payload = [UInt8](repeating: 0, count: maximumSize)
        let info = try payload.withUnsafeMutableBytes { buffer in
            Result { () throws(UDPError) in try receive(into: buffer) }
        }.get()
        payload.removeLast(maximumSize - info.count)
        return Datagram(payload: payload, info: info)
    }

    /// Receives one datagram into `buffer`, or returns nil when none arrives within `timeout`.
    ///
    /// This is the client's call: a lost datagram never comes, so every wait needs an end. It leaves the
    /// socket's own receive timeout and blocking mode alone.
    public func receive(
        into buffer: UnsafeMutableRawBufferPointer,
        timeout: Duration
    ) throws(UDPError)
        -> ReceiveInfo?
    {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let left = deadline - clock.now
            let events = try waitForEvents(timeout: max(left, .zero))
            guard events != 0 else { return nil }
            // MSG_DONTWAIT: Linux may discard a datagram with a bad checksum after poll said readable, and a
            // blocking receive would then wait past the deadline.
            let result = Result { () throws(UDPError) in
                try receiveMessage(into: buffer, flags: receiveFlags | cudp_MSG_DONTWAIT)
            }
            switch result {
            case .success(let info): return info
            case .failure(let error) where error.code == .wouldBlock:
                // Nothing to read, but POLLERR: a queued ICMP error, which would keep poll awake until read.
                if events & Int16(POLLERR) != 0, let event = try receiveError() {
                    throw UDPError(event, operation: .receive)
                }
                continue
            case .failure(let error): throw error
            }
        }
    }

    /// Receives one datagram into a new array, or returns nil when none arrives within `timeout`:
    ///
    /// ```swift
    /// if let reply = try socket.receive(timeout: .seconds(2)) { … } else { print("no reply within 2 seconds") }
    /// ```
    public func receive(maximumSize: Int = 65_535, timeout: Duration) throws(UDPError) -> Datagram? {
        var payload = [UInt8](repeating: 0, count: maximumSize)
        let info = try payload.withUnsafeMutableBytes { buffer in
            Result { () throws(UDPError) in try receive(into: buffer, timeout: timeout) }
        }.get()
        guard let info else { return nil }
        payload.removeLast(maximumSize - info.count)
        return Datagram(payload: payload, info: info)
    }

    /// Waits until a datagram (or an error, such as a refused connection) is ready to read.
    ///
    /// - Parameter timeout: How long to wait; `nil` waits for ever.
    /// - Returns: False when the timeout passed first.
    ///
    /// The corresponding C function is `poll(2)`.
    public func waitUntilReadable(timeout: Duration?) throws(UDPError) -> Bool {
        try waitForEvents(timeout: timeout) != 0
    }

    /// Waits as ``waitUntilReadable(timeout:)`` does; returns poll's events (`POLLIN`, `POLLERR`…), 0 when
    /// the timeout passed first.
    func waitForEvents(timeout: Duration?) throws(UDPError) -> Int16 {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard let timeout else {
            _ = try retryingInterrupts(.wait) { poll(&entry, 1, -1) }
            return entry.revents
        }
        // A signal interrupts poll; the retry waits only for what is left, so the deadline holds.
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let ready = try retryingInterrupts(.wait) {
            poll(&entry, 1, Self.milliseconds(rounding: max(deadline - clock.now, .zero)))
        }
        return ready > 0 ? entry.revents : 0
    }

    static func milliseconds(rounding duration: Duration) -> CInt {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        guard seconds < Int64(CInt.max) / 1000 else { return CInt.max }  // about 24 days: as good as for ever
        let total = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return CInt(clamping: total)
    }
}
