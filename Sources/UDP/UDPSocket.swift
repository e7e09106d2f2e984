import CUDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A UDP socket that owns its file descriptor and closes it exactly once.
///
/// `UDPSocket` is `~Copyable`: there is one owner of the descriptor at a time, so it cannot be closed twice,
/// used after close, or leaked — `deinit` closes it when the owner goes away, and ``close()`` does the same
/// while reporting errors. A class would also close in `deinit`, but it could be shared and used after
/// `close()`; a non-copyable struct makes both mistakes compile errors and costs no allocation.
///
/// When one thread sends while another receives, share it as a ``SharedUDPSocket`` (the kernel serialises
/// calls on one descriptor), or use ``takeDescriptor()`` to hand it to an event loop.
///
/// ```swift
/// let socket = try UDPSocket(bindingTo: SocketAddress(parsing: "127.0.0.1:9000"))
/// let datagram = try socket.receive(maximumSize: 65_535)
/// try socket.send(datagram.payload, to: datagram.sender)
/// ```
public struct UDPSocket: ~Copyable, Sendable {
    /// The file descriptor, for the package's own modules. Code outside the package borrows it through
    /// ``withUnsafeDescriptor(_:)``, which says what it may not do with it, or owns it with ``takeDescriptor()``:
    /// a public descriptor that a caller closes would make `deinit` close a number that is no longer this
    /// socket's (and trap on `EBADF`).
    package let descriptor: CInt
    /// The socket's address family, fixed at creation.
    public let family: AddressFamily
    /// Whether calls return at once (`O_NONBLOCK`) instead of waiting: set at creation, read once when adopting,
    /// changed by ``setNonBlocking(_:)``. Kept here so that an `EAGAIN` can say "nothing now" or "timed out"
    /// without asking the kernel again; a change made to the descriptor behind this type's back (through
    /// ``withUnsafeDescriptor(_:)``) is not seen.
    public private(set) var isNonBlocking: Bool

    /// Creates an unbound UDP socket (`socket(family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP)`).
    ///
    /// An IPv6 socket is made dual-stack (`IPV6_V6ONLY` off) whatever the system default, so `[::]` also serves
    /// IPv4 peers, which then appear v4-mapped (see ``SocketAddress/unmapped``); turn it back on with
    /// ``setIPv6Only(_:)`` before binding.
    ///
    /// - Parameters:
    ///   - family: `.inet` (IPv4) or `.inet6` (IPv6).
    ///   - nonBlocking: Make calls return `UDPError.Code.wouldBlock` instead of waiting.
    public init(family: AddressFamily = .inet, nonBlocking: Bool = false) throws(UDPError) {
        let socket = UDPSocket(
            owning: try openDatagramSocket(family, nonBlocking: nonBlocking),
            family: family,
            nonBlocking: nonBlocking
        )
        // On a throw, `socket` closes the half-made descriptor as it goes out of scope (as NIO's makeSocket).
        if family == .inet6 { try socket.setIPv6Only(false) }
        self = socket
    }

    /// Takes `descriptor`, which must be an open UDP socket of `family` in the blocking mode given.
    private init(owning descriptor: CInt, family: AddressFamily, nonBlocking: Bool) {
        self.descriptor = descriptor
        self.family = family
        self.isNonBlocking = nonBlocking
    }

    /// Creates a socket of the address's family and binds it: the first two of the five calls.
    ///
    /// - Parameters:
    ///   - address: Where to listen. Port 0 lets the kernel pick a free port; read it back from
    ///     ``localAddress``. `[::]` gives a dual-stack socket.
    ///   - reuseAddress: Set `SO_REUSEADDR` before binding.
    ///   - nonBlocking: See ``init(family:nonBlocking:)``.
    public init(
        bindingTo address: SocketAddress,
        reuseAddress: Bool = false,
        nonBlocking: Bool = false
    )
        throws(UDPError)
    {
        let socket = try UDPSocket(family: address.family, nonBlocking: nonBlocking)
        if reuseAddress { try socket.setReuseAddress(true) }
        try socket.bind(to: address)
        self = socket  // on a throw above, `socket` closes its descriptor as it goes out of scope
    }

    /// Takes ownership of a descriptor that is already a UDP socket (from systemd, or another library).
    ///
    /// - Throws: `UDPError` if `descriptor` is not an IPv4 or IPv6 datagram socket; the descriptor is then
    ///   left open, still the caller's.
    public init(adopting descriptor: CInt) throws(UDPError) {
        // Until these checks pass the descriptor is not ours: EBADF or ENOTSOCK is the caller's mistake, thrown.
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutableBytes(of: &storage) { (raw) throws(UDPError) in
            try retryingInterrupts(.localAddress, validating: true) {
                getsockname(descriptor, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length)
            }
        }
        let type = try integerOption(descriptor, SOL_SOCKET, SO_TYPE, validating: true)
        let family = AddressFamily(rawValue: CInt(storage.ss_family))
        // A ping socket (IPPROTO_ICMP) is a datagram socket too; only UDP is ours.
        let proto = try socketProtocol(descriptor, validating: true)
        guard type == datagramSocketType, family == .inet || family == .inet6, proto == cudp_IPPROTO_UDP else {
            throw UDPError(.invalidArgument, .socket, detail: "descriptor \(descriptor) is not a UDP socket")
        }
        // Asked once, here; from now on the socket knows its mode.
        let nonBlocking = try hasStatusFlag(O_NONBLOCK, on: descriptor, validating: true)
        self.init(owning: descriptor, family: family, nonBlocking: nonBlocking)
    }

    deinit {
        // Nowhere to report an error from here; call close() to see it.
        try? closeDescriptor(descriptor)
    }

    /// Closes the socket now, reporting any error. The socket is consumed either way: `close` is never
    /// retried, because Linux releases the descriptor even when it fails.
    ///
    /// The corresponding C function is `close(2)`.
    public consuming func close() throws(UDPError) {
        let fd = descriptor
        discard self
        try closeDescriptor(fd)
    }

    /// Gives up ownership and returns the descriptor, which the caller must now close (an event loop that
    /// adopts it, for example).
    public consuming func takeDescriptor() -> CInt {
        let fd = descriptor
        discard self
        return fd
    }
}

extension UDPSocket {
    /// Binds the socket to a local address: port 0 picks an ephemeral port (read it from ``localAddress``).
    ///
    /// An IPv4 address given to an IPv6 socket is bound in its v4-mapped form.
    ///
    /// The corresponding C function is `bind(2)`.
    public func bind(to address: SocketAddress) throws(UDPError) {
        let target = address.converted(for: family)
        _ = try retryingInterrupts(.bind, address: address) {
            target.withSockAddr { systemBind(descriptor, $0, $1) }
        }
    }

    /// Connects the socket to one peer: afterwards ``send(_:)-(Collection<UInt8>)`` needs no address, datagrams from
    /// other peers are filtered out by the kernel, and an ICMP port-unreachable for an earlier datagram surfaces
    /// as `UDPError.Code.connectionRefused` on the next call.
    ///
    /// The corresponding C function is `connect(2)`.
    public func connect(to address: SocketAddress) throws(UDPError) {
        let target = address.converted(for: family)
        _ = try retryingInterrupts(.connect, address: address) {
            target.withSockAddr { systemConnect(descriptor, $0, $1) }
        }
    }

    /// Dissolves the association made by ``connect(to:)`` (`connect` with `AF_UNSPEC`).
    ///
    /// Linux then also releases a port the kernel chose implicitly (by connect, or a bind to port 0 that it
    /// did not pin): ``localAddress`` may read port 0 afterwards. Bind an explicit port to keep it.
    public func disconnect() throws(UDPError) {
        var address = sockaddr()
        address.sa_family = sa_family_t(AF_UNSPEC)
        do throws(UDPError) {
            _ = try retryingInterrupts(.connect) {
                systemConnect(descriptor, &address, socklen_t(MemoryLayout<sockaddr>.size))
            }
        } catch  where error.errno == .addressFamilyNotSupported {
            // Linux may report EAFNOSUPPORT for AF_UNSPEC on some socket types even though it disconnected.
        }
    }

    /// The address the socket is bound to, with the port the kernel chose for port 0.
    ///
    /// The corresponding C function is `getsockname(2)`.
    public var localAddress: SocketAddress {
        get throws(UDPError) { try readAddress(.localAddress) { getsockname(descriptor, $0, $1) } }
    }

    /// The connected peer.
    ///
    /// - Throws: `UDPError` with errno `ENOTCONN` when the socket is not connected.
    ///
    /// The corresponding C function is `getpeername(2)`.
    public var remoteAddress: SocketAddress {
        get throws(UDPError) { try readAddress(.remoteAddress) { getpeername(descriptor, $0, $1) } }
    }

    private func readAddress(
        _ operation: UDPError.Operation,
        _ call: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> CInt
    ) throws(UDPError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutableBytes(of: &storage) { (raw) throws(UDPError) in
            try retryingInterrupts(operation) { call(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length) }
        }
        return withUnsafeBytes(of: &storage) { SocketAddress(storage: $0.baseAddress!, length: length) }!
    }

    /// Turns non-blocking mode on or off (``isNonBlocking``).
    ///
    /// The corresponding C function is `fcntl(2)` with `F_SETFL` and `O_NONBLOCK`.
    public mutating func setNonBlocking(_ on: Bool) throws(UDPError) {
        try setStatusFlag(O_NONBLOCK, on, on: descriptor)
        isNonBlocking = on
    }

    /// The error for `EAGAIN` from a call made with `flags`: `.wouldBlock` ("nothing now") when the call was
    /// not to wait, on a non-blocking socket or with `MSG_DONTWAIT`; `.timedOut` when a blocking call's
    /// timeout (`SO_RCVTIMEO`, `SO_SNDTIMEO`) passed. No system call: the socket knows its mode.
    func againError(_ operation: UDPError.Operation, flags: CInt, address: SocketAddress? = nil) -> UDPError {
        let waited = !isNonBlocking && flags & cudp_MSG_DONTWAIT == 0
        var error = UDPError(waited ? .timedOut : .wouldBlock, operation, errno: .wouldBlock, address: address)
        if waited { error.detail = "timed out" }
        return error
    }
}
