import CUDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Sends from a chosen local address: the answer of a server bound to `0.0.0.0` or `::` must come from the
// address the request was sent to, or a client that checks the source (any connected socket) drops it.
extension UDPSocket {
    /// Sends one datagram to `address` from the local address `source`, which need not be the one the socket
    /// is bound to: on a socket bound to a wildcard address, the address a request was sent to.
    ///
    /// - Parameters:
    ///   - buffer: The datagram.
    ///   - address: Where it goes.
    ///   - source: An address of this host, of the family that reaches `address`: IPv4 for an IPv4 or
    ///     v4-mapped peer (an IPv6 socket takes it for a v4-mapped peer too), IPv6 otherwise.
    ///   - interfaceIndex: The interface to send on. Required for an IPv6 link-local source unless `address`
    ///     carries a scope; nil leaves the interface to routing, as an IPv4 server wants (`ipi_ifindex` 0).
    /// - Returns: The bytes sent: all of them.
    /// - Throws: as ``send(_:to:)-(UnsafeRawBufferPointer,_)``; `UDPError` with code `.invalidArgument` when
    ///   `source` is of the other family (before any system call), not an address of this host, or a link-local
    ///   address without its interface (the kernel says `EINVAL`, or `ENETUNREACH` for IPv4).
    ///
    /// The corresponding C function is `sendmsg(2)` with `IP_PKTINFO` (`ipi_spec_dst`) or `IPV6_PKTINFO`.
    @discardableResult
    public func send(
        _ buffer: UnsafeRawBufferPointer,
        to address: SocketAddress,
        from source: IPAddress,
        interfaceIndex: UInt32? = nil
    ) throws(UDPError) -> Int {
        let target = address.converted(for: family)
        try checkSize(buffer.count, destination: target, address: address)
        guard let packetSource = PacketSource(source, interfaceIndex: interfaceIndex, to: target) else {
            throw UDPError(
                .invalidArgument,
                .send,
                address: address,
                detail: "the source \(source) is \(source.unmapped.family) but the destination is reached over "
                    + (source.unmapped.family == .inet ? "IPv6" : "IPv4")
            )
        }
        return try target.withSockAddr { (name, length) throws(UDPError) -> Int in
            do throws(UDPError) {
                return try sendMessage(buffer, to: UnsafeRawPointer(name), length, from: packetSource)
            } catch {
                var error = refine(error, size: buffer.count, source: packetSource)
                error.address = address
                throw error
            }
        }
    }

    /// Sends the bytes of `payload` to `address` from the local address `source`.
    @discardableResult
    public func send(
        _ payload: some Collection<UInt8>,
        to address: SocketAddress,
        from source: IPAddress,
        interfaceIndex: UInt32? = nil
    ) throws(UDPError) -> Int {
        try withContiguousBytes(payload) { (buffer) throws(UDPError) in
            try send(buffer, to: address, from: source, interfaceIndex: interfaceIndex)
        }
    }

    /// Answers a received datagram: sends to its sender, from the address it was sent to when packet info is
    /// on (``ReceiveInfo/replySource``, with the interface for an IPv6 link-local one), else as
    /// ``send(_:to:)-(UnsafeRawBufferPointer,_)`` does.
    ///
    /// ```swift
    /// try socket.setReceivePacketInfo(true)   // on a socket bound to 0.0.0.0 or ::
    /// let request = try socket.receive(into: buffer)
    /// try socket.send(reply, replyingTo: request)
    /// ```
    @discardableResult
    public func send(_ buffer: UnsafeRawBufferPointer, replyingTo request: ReceiveInfo) throws(UDPError) -> Int {
        guard let source = request.replySource else { return try send(buffer, to: request.sender) }
        let linkLocal = if case .v6(let address) = source { address.isLinkLocal } else { false }
        return try send(
            buffer,
            to: request.sender,
            from: source,
            interfaceIndex: linkLocal ? request.interfaceIndex : nil
        )
    }

    /// Sends the bytes of `payload` in answer to `request`, as ``send(_:replyingTo:)-(UnsafeRawBufferPointer,_)``.
    @discardableResult
    public func send(_ payload: some Collection<UInt8>, replyingTo request: ReceiveInfo) throws(UDPError) -> Int {
        try withContiguousBytes(payload) { (buffer) throws(UDPError) in try send(buffer, replyingTo: request) }
    }

    /// `sendmsg` of `bytes` to the address at `name`, with `source` as packet info when there is one.
    func sendMessage(
        _ bytes: UnsafeRawBufferPointer,
        to name: UnsafeRawPointer,
        _ length: socklen_t,
        from source: PacketSource?
    ) throws(UDPError) -> Int {
        // Room for the larger packet info, IPv6's: CMSG_SPACE(20) is 40 bytes.
        try withUnsafeTemporaryAllocation(byteCount: 64, alignment: 16) { (control) throws(UDPError) -> Int in
            var vector = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
            return try withUnsafeMutablePointer(to: &vector) { (vectorPointer) throws(UDPError) -> Int in
                var message = msghdr()
                message.msg_name = UnsafeMutableRawPointer(mutating: name)
                message.msg_namelen = length
                message.msg_iov = vectorPointer
                message.msg_iovlen = 1
                if let source {
                    message.msg_control = control.baseAddress
                    message.msg_controllen = numericCast(writePacketSource(source, to: control.baseAddress!))
                }
                return try sendRetryingPendingError(size: bytes.count) { sendmsg(descriptor, &message, sendFlags) }
            }
        }
    }

    /// Says why the kernel refused a send from `source`, when the source is the cause: Linux answers `EINVAL`
    /// (IPv6) or `ENETUNREACH` (IPv4) for a source that is not this host's, and `EINVAL` for a link-local one
    /// without its interface. A failed send only: it binds a throwaway socket to find out.
    func explainSourceError(_ error: inout UDPError, _ source: PacketSource) {
        guard error.errno == .invalidArgument || error.errno == .networkUnreachable else { return }
        if case .v6(let address) = source.address, address.isLinkLocal, source.interfaceIndex == 0 {
            error.code = .invalidArgument
            error.detail = "cannot send from \(address) without its interface: a link-local source needs one"
            return
        }
        var local = SocketAddress(source.address, port: 0)
        if case .v6(var address) = local {
            address.scopeID = source.interfaceIndex
            local = .v6(address)
        }
        // Binding asks the kernel the same question the send did: is this an address of this host?
        do {
            _ = try UDPSocket(bindingTo: local)
            return  // a local address: something else made the kernel refuse
        } catch {}
        error.code = .invalidArgument
        error.detail = "cannot send from \(source.address): not an address of this host"
    }
}
