import CUDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension UDPSocket {
    /// Sends one datagram to `address`.
    ///
    /// An IPv4 address given to a dual-stack IPv6 socket is sent to in its v4-mapped form.
    ///
    /// - Returns: The bytes sent: all of them, as UDP sends a datagram whole or not at all.
    /// - Throws: `UDPError` with code `.messageTooLarge` before any system call when `buffer` is larger than
    ///   the protocol maximum (65507 bytes over IPv4, 65527 over IPv6), and from the kernel when it is larger
    ///   than the path MTU with path-MTU discovery on (then ``UDPError/pathMTU`` carries the MTU);
    ///   errno `EACCES` for a broadcast address without ``setBroadcast(_:)``.
    ///
    /// The corresponding C function is `sendto(2)`.
    @discardableResult
    public func send(_ buffer: UnsafeRawBufferPointer, to address: SocketAddress) throws(UDPError) -> Int {
        let target = address.converted(for: family)
        try checkSize(buffer.count, destination: target, address: address)
        return try target.withSockAddr { (name, length) throws(UDPError) -> Int in
            do throws(UDPError) {
                return try sendRetryingPendingError(address: address, size: buffer.count) {
                    sendto(descriptor, buffer.baseAddress, buffer.count, sendFlags, name, length)
                }
            } catch {
                throw refine(error, size: buffer.count)
            }
        }
    }

    /// Sends the bytes of `payload` (an array, a slice, a string's `utf8`) to `address`.
    @discardableResult
    public func send(_ payload: some Collection<UInt8>, to address: SocketAddress) throws(UDPError) -> Int {
        try withContiguousBytes(payload) { (buffer) throws(UDPError) in try send(buffer, to: address) }
    }

    /// Sends one datagram to the connected peer (see ``connect(to:)``).
    ///
    /// - Throws: as ``send(_:to:)-(UnsafeRawBufferPointer,_)``, plus `.connectionRefused` when an earlier
    ///   datagram drew an ICMP port unreachable.
    ///
    /// The corresponding C function is `send(2)`.
    @discardableResult
    public func send(_ buffer: UnsafeRawBufferPointer) throws(UDPError) -> Int {
        // Only an IPv6 socket connected to an IPv4 peer has a lower limit than its own family's; look the peer
        // up (one system call) only for a datagram that could exceed it.
        let peer = family == .inet6 && buffer.count > AddressFamily.inet.maximumPayloadSize ? try? remoteAddress : nil
        try checkSize(buffer.count, destination: peer, address: peer?.unmapped)
        do throws(UDPError) {
            return try sendRetryingPendingError(size: buffer.count) {
                systemSend(descriptor, buffer.baseAddress, buffer.count, sendFlags)
            }
        } catch {
            throw refine(error, size: buffer.count)
        }
    }

    /// Sends the bytes of `payload` to the connected peer.
    @discardableResult
    public func send(_ payload: some Collection<UInt8>) throws(UDPError) -> Int {
        try withContiguousBytes(payload) { (buffer) throws(UDPError) in try send(buffer) }
    }

    /// The largest payload this socket can send to `destination` (or to its peer): the protocol maximum.
    public func maximumPayloadSize(to destination: SocketAddress? = nil) -> Int {
        guard let destination else { return family.maximumPayloadSize }
        if destination.family == .inet || destination.isV4Mapped { return AddressFamily.inet.maximumPayloadSize }
        return AddressFamily.inet6.maximumPayloadSize
    }

    func checkSize(_ size: Int, destination: SocketAddress?, address: SocketAddress?) throws(UDPError) {
        let limit = maximumPayloadSize(to: destination)
        guard size > limit else { return }
        var error = UDPError(.messageTooLarge, .send, address: address)
        error.attemptedSize = size
        error.maximumSize = limit
        error.detail =
            "the \(destination.map { $0.family == .inet || $0.isV4Mapped ? "IPv4" : "IPv6" } ?? family.description) maximum"
        throw error
    }

    /// Adds what the kernel knows to a send error: the path MTU behind EMSGSIZE, the usual cause of EACCES,
    /// and for a send from a chosen `source` the cause of EINVAL.
    func refine(_ error: UDPError, size: Int, source: PacketSource? = nil) -> UDPError {
        var error = error
        if error.errno == .wouldBlock {
            return againError(.send, flags: sendFlags, address: error.address)
        }
        if error.code == .messageTooLarge {
            error.attemptedSize = size
            if let mtu = try? pathMTU {
                error.pathMTU = mtu
                // IPv4 and UDP headers take 28 bytes, IPv6 and UDP 48; a v4-mapped peer travels over IPv4.
                let peer = error.address ?? (try? remoteAddress)
                let overIPv4 = family == .inet || peer?.family == .inet || peer?.isV4Mapped == true
                error.maximumSize = mtu - (overIPv4 ? 28 : 48)
            }
        } else if error.errno == .permissionDenied {
            error.detail = "sending to a broadcast address needs SO_BROADCAST"
        } else if let source {
            explainSourceError(&error, source)
        }
        return error
    }
}

/// Calls `body` with the bytes of `payload` in contiguous memory, copying only when it is not contiguous.
func withContiguousBytes<R>(
    _ payload: some Collection<UInt8>,
    _ body: (UnsafeRawBufferPointer) throws(UDPError) -> R
) throws(UDPError) -> R {
    let result: Result<R, UDPError>? = payload.withContiguousStorageIfAvailable { buffer in
        Result { () throws(UDPError) -> R in try body(UnsafeRawBufferPointer(buffer)) }
    }
    if let result { return try result.get() }
    return try Array(payload).withUnsafeBytes { buffer in Result { () throws(UDPError) in try body(buffer) } }.get()
}
