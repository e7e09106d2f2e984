import CUDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How the kernel sets the IP "don't fragment" bit and reacts to ICMP "fragmentation needed"
/// (`IP_MTU_DISCOVER` / `IPV6_MTU_DISCOVER`).
public struct PathMTUDiscovery: RawRepresentable, Hashable, Sendable {
    public var rawValue: CInt
    public init(rawValue: CInt) { self.rawValue = rawValue }

    /// Never set DF; the kernel fragments large datagrams (`IP_PMTUDISC_DONT`).
    public static let dont = PathMTUDiscovery(rawValue: cudp_IP_PMTUDISC_DONT)
    /// Use discovery where the route allows (`IP_PMTUDISC_WANT`, Linux's default).
    public static let want = PathMTUDiscovery(rawValue: cudp_IP_PMTUDISC_WANT)
    /// Always set DF: a datagram larger than the known path MTU fails with `EMSGSIZE` (`IP_PMTUDISC_DO`),
    /// so an application can keep its payloads under the MTU.
    public static let `do` = PathMTUDiscovery(rawValue: cudp_IP_PMTUDISC_DO)
    /// Set DF but ignore the path MTU the kernel learned; send up to the interface MTU (`IP_PMTUDISC_PROBE`).
    public static let probe = PathMTUDiscovery(rawValue: cudp_IP_PMTUDISC_PROBE)
}

// Socket options, each a getter and a setter, read back from the kernel rather than remembered.
extension UDPSocket {
    /// Whether `SO_REUSEADDR` is on: lets several sockets bind the same address (for multicast receivers),
    /// or a restarted server bind at once.
    public var reuseAddress: Bool { get throws(UDPError) { try boolOption(SOL_SOCKET, SO_REUSEADDR) } }
    /// Turns `SO_REUSEADDR` on or off, before ``bind(to:)``. On Linux, sockets that all set it may bind the
    /// same address and port: each receiver of a multicast group gets every group datagram, and a restarted
    /// server can bind at once. A unicast datagram reaches only one of them, so to spread load over several
    /// sockets use ``setReusePort(_:)`` instead.
    ///
    /// - Throws: `UDPError` with operation `.setOption` when the kernel refuses.
    public func setReuseAddress(_ on: Bool) throws(UDPError) {
        try setOption(SOL_SOCKET, SO_REUSEADDR, CInt(on ? 1 : 0))
    }

    /// Whether `SO_REUSEPORT` is on: several sockets (of the same user) share one port and the kernel
    /// spreads incoming flows across them. Set it on every socket before binding.
    public var reusePort: Bool { get throws(UDPError) { try boolOption(SOL_SOCKET, cudp_SO_REUSEPORT) } }
    /// Turns `SO_REUSEPORT` on or off, on every socket before it binds. Sockets of the same user that all set
    /// it may bind the same address and port, and the kernel spreads incoming datagrams across them by a hash
    /// of the peer's address and port, so each peer keeps reaching the same socket. One socket per worker
    /// thread scales a server over cores with nothing shared between them (`udp echo --workers N`).
    ///
    /// - Throws: `UDPError` with operation `.setOption` when the kernel refuses (`ENOPROTOOPT` on a system
    ///   without the option).
    public func setReusePort(_ on: Bool) throws(UDPError) {
        try setOption(SOL_SOCKET, cudp_SO_REUSEPORT, CInt(on ? 1 : 0))
    }

    /// The receive queue size the kernel granted (`SO_RCVBUF`). Linux doubles the size asked for (half is
    /// bookkeeping) and caps it at `net.core.rmem_max`; read this back to see what you got.
    public var receiveBufferSize: Int { get throws(UDPError) { Int(try option(SOL_SOCKET, SO_RCVBUF, as: CInt.self)) } }
    /// Asks for a receive queue of `bytes` (`SO_RCVBUF`). Linux's default (`net.core.rmem_default`, often
    /// 208 KiB) holds a few hundred datagrams; what arrives while it is full is dropped without a word, so a
    /// server that takes bursts raises it. The kernel caps the request at `net.core.rmem_max`, without an
    /// error, then doubles it: read ``receiveBufferSize`` back to see what you got, and turn on
    /// ``setReceiveDropCount(_:)`` to see whether it still overflows.
    ///
    /// - Throws: `UDPError` with operation `.setOption` when the kernel refuses.
    public func setReceiveBufferSize(_ bytes: Int) throws(UDPError) {
        try setOption(SOL_SOCKET, SO_RCVBUF, CInt(clamping: bytes))
    }

    /// The send queue size the kernel granted (`SO_SNDBUF`), doubled and capped like the receive size.
    public var sendBufferSize: Int { get throws(UDPError) { Int(try option(SOL_SOCKET, SO_SNDBUF, as: CInt.self)) } }
    /// Asks for a send queue of `bytes` (`SO_SNDBUF`), capped at `net.core.wmem_max` and doubled like the
    /// receive size; read ``sendBufferSize`` back. A send waits (or, non-blocking, fails with `.wouldBlock`)
    /// while this socket's datagrams not yet on the wire fill it, so a sender of bursts faster than the link
    /// raises it.
    ///
    /// - Throws: `UDPError` with operation `.setOption` when the kernel refuses.
    public func setSendBufferSize(_ bytes: Int) throws(UDPError) {
        try setOption(SOL_SOCKET, SO_SNDBUF, CInt(clamping: bytes))
    }

    /// Whether the socket may send to broadcast addresses (`SO_BROADCAST`); without it the kernel answers
    /// `EACCES`.
    public var broadcast: Bool { get throws(UDPError) { try boolOption(SOL_SOCKET, SO_BROADCAST) } }
    /// Turns `SO_BROADCAST` on or off. Turn it on before sending to `255.255.255.255` or a subnet's
    /// broadcast address, which the kernel otherwise refuses with ``Errno/permissionDenied``. Receiving
    /// broadcasts needs no option, only a socket bound to the port on a wildcard address.
    ///
    /// - Throws: `UDPError` with operation `.setOption` when the kernel refuses.
    public func setBroadcast(_ on: Bool) throws(UDPError) { try setOption(SOL_SOCKET, SO_BROADCAST, CInt(on ? 1 : 0)) }

    /// Whether an IPv6 socket is limited to IPv6 (`IPV6_V6ONLY`). This library creates IPv6 sockets
    /// dual-stack; turn this on before ``bind(to:)`` to share a port with a separate IPv4 socket.
    public var isIPv6Only: Bool { get throws(UDPError) { try boolOption(cudp_IPPROTO_IPV6, IPV6_V6ONLY) } }
    /// Turns `IPV6_V6ONLY` on or off, before ``bind(to:)``: the kernel refuses a change after it. On, the
    /// socket serves IPv6 peers only, so a separate IPv4 socket can bind the same port; off (this library's
    /// default), `[::]` also receives IPv4 datagrams, from v4-mapped peers.
    ///
    /// - Throws: `UDPError` with operation `.setOption` when the kernel refuses: on a bound socket, or an IPv4
    ///   one.
    public func setIPv6Only(_ on: Bool) throws(UDPError) {
        try setOption(cudp_IPPROTO_IPV6, IPV6_V6ONLY, CInt(on ? 1 : 0))
    }

    /// The time to live (IPv4 `IP_TTL`) or hop limit (IPv6 `IPV6_UNICAST_HOPS`) of unicast datagrams.
    public var unicastHops: Int {
        get throws(UDPError) {
            Int(
                family == .inet6
                    ? try option(cudp_IPPROTO_IPV6, IPV6_UNICAST_HOPS, as: CInt.self)
                    : try option(cudp_IPPROTO_IP, IP_TTL, as: CInt.self)
            )
        }
    }
    /// Sets the unicast hop limit; -1 restores the system default.
    public func setUnicastHops(_ hops: Int) throws(UDPError) {
        if hops != -1 { try checkRange(hops, 1...255, "hop limit") }
        if family == .inet6 {
            try setOption(cudp_IPPROTO_IPV6, IPV6_UNICAST_HOPS, CInt(hops))
        } else {
            try setOption(cudp_IPPROTO_IP, IP_TTL, CInt(hops))
        }
    }

    /// The IPv4 type-of-service byte (`IP_TOS`) or IPv6 traffic class (`IPV6_TCLASS`): DSCP in the high six
    /// bits, ECN in the low two.
    public var typeOfService: UInt8 {
        get throws(UDPError) {
            UInt8(
                truncatingIfNeeded: family == .inet6
                    ? try option(cudp_IPPROTO_IPV6, IPV6_TCLASS, as: CInt.self)
                    : try option(cudp_IPPROTO_IP, IP_TOS, as: CInt.self)
            )
        }
    }
    /// Sets the type-of-service byte (IPv4 `IP_TOS`) or traffic class (IPv6 `IPV6_TCLASS`) of the datagrams
    /// sent from now on: DSCP in the high six bits (`0xB8` is Expedited Forwarding, DSCP 46, as voice uses),
    /// ECN in the low two. Networks may rewrite or ignore it.
    ///
    /// - Throws: `UDPError` with operation `.setOption` when the kernel refuses.
    public func setTypeOfService(_ value: UInt8) throws(UDPError) {
        if family == .inet6 {
            try setOption(cudp_IPPROTO_IPV6, IPV6_TCLASS, CInt(value))
        } else {
            try setOption(cudp_IPPROTO_IP, IP_TOS, CInt(value))
        }
    }

    /// The path-MTU discovery mode (`IP_MTU_DISCOVER` / `IPV6_MTU_DISCOVER`).
    public var pathMTUDiscovery: PathMTUDiscovery {
        get throws(UDPError) { PathMTUDiscovery(rawValue: try option(mtuLevel, mtuDiscoverOption, as: CInt.self)) }
    }
    /// Chooses how the kernel sets the IP "don't fragment" bit on the datagrams sent from now on. With
    /// ``PathMTUDiscovery/do``, a datagram larger than the path MTU the kernel knows fails with
    /// `UDPError.Code.messageTooLarge` instead of leaving in fragments: what a protocol that sizes its own
    /// datagrams to the path wants, since one lost fragment loses the whole datagram.
    ///
    /// - Throws: `UDPError` with operation `.setOption` when the kernel refuses.
    public func setPathMTUDiscovery(_ mode: PathMTUDiscovery) throws(UDPError) {
        try setOption(mtuLevel, mtuDiscoverOption, mode.rawValue)
    }

    /// The path MTU the kernel knows for the connected peer (`IP_MTU` / `IPV6_MTU`); connected sockets only.
    public var pathMTU: Int {
        get throws(UDPError) {
            Int(try option(mtuLevel, family == .inet6 ? cudp_IPV6_MTU : cudp_IP_MTU, as: CInt.self))
        }
    }

    /// Whether each received datagram reports its destination address and arrival interface
    /// (`IP_PKTINFO` / `IPV6_RECVPKTINFO`), in ``ReceiveInfo/destination`` and ``ReceiveInfo/interfaceIndex``,
    /// and the address to answer from, ``ReceiveInfo/replySource``. An IPv6 socket turns on `IP_PKTINFO` as
    /// well, for its IPv4 (v4-mapped) peers: only that one says which local address stands for a broadcast.
    public var receivePacketInfo: Bool {
        get throws(UDPError) {
            family == .inet6
                ? try boolOption(cudp_IPPROTO_IPV6, cudp_IPV6_RECVPKTINFO)
                : try boolOption(cudp_IPPROTO_IP, cudp_IP_PKTINFO)
        }
    }
    /// Turns packet info on or off (`IP_PKTINFO`, and `IPV6_RECVPKTINFO` on an IPv6 socket). Turn it on in a
    /// server bound to `0.0.0.0` or `::` on a host with several addresses, to learn which address each request
    /// was sent to and answer from it (``UDPSocket/send(_:replyingTo:)-(Collection<UInt8>,_)``), or to tell a
    /// broadcast or multicast datagram from a unicast one. It costs the kernel a little on every datagram.
    ///
    /// - Throws: `UDPError` with operation `.setOption` when the kernel refuses.
    public func setReceivePacketInfo(_ on: Bool) throws(UDPError) {
        if family == .inet6 {
            try setOption(cudp_IPPROTO_IPV6, cudp_IPV6_RECVPKTINFO, CInt(on ? 1 : 0))
        }
        try setOption(cudp_IPPROTO_IP, cudp_IP_PKTINFO, CInt(on ? 1 : 0))
    }

    /// Whether each received datagram reports its IPv4 TTL or IPv6 hop limit (`IP_RECVTTL` /
    /// `IPV6_RECVHOPLIMIT`), in ``ReceiveInfo/hopLimit``. An IPv6 socket turns on both, for its IPv4
    /// (v4-mapped) peers too.
    public var receiveHopLimit: Bool {
        get throws(UDPError) {
            family == .inet6
                ? try boolOption(cudp_IPPROTO_IPV6, cudp_IPV6_RECVHOPLIMIT)
                : try boolOption(cudp_IPPROTO_IP, cudp_IP_RECVTTL)
        }
    }
    /// Turns hop-limit reporting on or off (`IP_RECVTTL`, and `IPV6_RECVHOPLIMIT` on an IPv6 socket). Turn it
    /// on to check that a datagram comes from a neighbour (RFC 5082: a neighbour that sends with 255 arrives
    /// with 255, which a forger further away cannot do), or to see how many routers away a peer is.
    ///
    /// - Throws: `UDPError` with operation `.setOption` when the kernel refuses.
    public func setReceiveHopLimit(_ on: Bool) throws(UDPError) {
        if family == .inet6 {
            try setOption(cudp_IPPROTO_IPV6, cudp_IPV6_RECVHOPLIMIT, CInt(on ? 1 : 0))
        }
        try setOption(cudp_IPPROTO_IP, cudp_IP_RECVTTL, CInt(on ? 1 : 0))
    }

    /// Whether each received datagram carries the kernel's count of datagrams dropped for this socket
    /// (`SO_RXQ_OVFL`), in ``ReceiveInfo/kernelDropCount``: the way to see a receive queue overflowing.
    public var receiveDropCount: Bool { get throws(UDPError) { try boolOption(SOL_SOCKET, cudp_SO_RXQ_OVFL) } }
    /// Turns the drop counter on or off (`SO_RXQ_OVFL`, Linux). Turn it on wherever loss matters: the kernel
    /// drops a datagram that finds the receive queue full without telling anyone, and this count is the
    /// socket's only sign of it. Answer a rising count with a larger queue (``setReceiveBufferSize(_:)``),
    /// cheaper reads (``DatagramBatch``) or more workers (``setReusePort(_:)``).
    ///
    /// - Throws: `UDPError` with operation `.setOption` when the kernel refuses (on a system without the
    ///   option).
    public func setReceiveDropCount(_ on: Bool) throws(UDPError) {
        try setOption(SOL_SOCKET, cudp_SO_RXQ_OVFL, CInt(on ? 1 : 0))
    }

    /// How long a receive waits before failing with `UDPError.Code.timedOut` (`SO_RCVTIMEO`); nil waits for ever.
    /// Always set one on a client: a lost datagram never comes.
    public var receiveTimeout: Duration? { get throws(UDPError) { try timeoutOption(SO_RCVTIMEO) } }
    /// Sets how long each blocking receive waits (`SO_RCVTIMEO`, to the microsecond) before it throws
    /// `UDPError` with code `.timedOut`; nil waits for ever. Set one on every client: a lost request or reply
    /// never arrives. ``receive(maximumSize:timeout:)`` takes a timeout per call instead.
    ///
    /// - Throws: `UDPError` with code `.invalidArgument` for a timeout of zero or less, or with operation
    ///   `.setOption` when the kernel refuses.
    public func setReceiveTimeout(_ timeout: Duration?) throws(UDPError) { try setTimeoutOption(SO_RCVTIMEO, timeout) }

    /// How long a send waits for queue space before failing with `.timedOut` (`SO_SNDTIMEO`); nil waits for ever.
    public var sendTimeout: Duration? { get throws(UDPError) { try timeoutOption(SO_SNDTIMEO) } }
    /// Sets how long each blocking send waits for room in the send queue (`SO_SNDTIMEO`, to the microsecond)
    /// before it throws `UDPError` with code `.timedOut`; nil waits for ever. A UDP send waits only while the
    /// socket's datagrams not yet on the wire fill ``sendBufferSize``.
    ///
    /// - Throws: `UDPError` with code `.invalidArgument` for a timeout of zero or less, or with operation
    ///   `.setOption` when the kernel refuses.
    public func setSendTimeout(_ timeout: Duration?) throws(UDPError) { try setTimeoutOption(SO_SNDTIMEO, timeout) }

    /// Reads and clears the socket's pending error (`SO_ERROR`), such as a refused connection not yet reported.
    public func takePendingError() throws(UDPError) -> Errno? {
        let value = try option(SOL_SOCKET, SO_ERROR, as: CInt.self)
        return value == 0 ? nil : Errno(rawValue: value)
    }
}

// The plumbing shared by every option.
extension UDPSocket {
    var mtuLevel: CInt { family == .inet6 ? cudp_IPPROTO_IPV6 : cudp_IPPROTO_IP }
    var mtuDiscoverOption: CInt { family == .inet6 ? cudp_IPV6_MTU_DISCOVER : cudp_IP_MTU_DISCOVER }

    func option<T: BitwiseCopyable>(_ level: CInt, _ name: CInt, as type: T.Type) throws(UDPError) -> T {
        try withUnsafeTemporaryAllocation(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment) {
            (raw) throws(UDPError) -> T in
            raw.initializeMemory(as: UInt8.self, repeating: 0)
            var length = socklen_t(raw.count)
            _ = try retryingInterrupts(.getOption) { getsockopt(descriptor, level, name, raw.baseAddress, &length) }
            return raw.load(as: T.self)
        }
    }

    /// Sets an option from the bytes of `value` (a C integer or struct).
    func setOption<T>(_ level: CInt, _ name: CInt, _ value: T) throws(UDPError) {
        try withUnsafeBytes(of: value) { (raw) throws(UDPError) in
            _ = try retryingInterrupts(.setOption) {
                setsockopt(descriptor, level, name, raw.baseAddress, socklen_t(raw.count))
            }
        }
    }

    func boolOption(_ level: CInt, _ name: CInt) throws(UDPError) -> Bool {
        try option(level, name, as: CInt.self) != 0
    }

    func checkRange(_ value: Int, _ range: ClosedRange<Int>, _ what: String) throws(UDPError) {
        guard range.contains(value) else {
            throw UDPError(
                .invalidArgument,
                .setOption,
                detail: "\(what) \(value) is out of range \(range.lowerBound)-\(range.upperBound)"
            )
        }
    }

    private func timeoutOption(_ name: CInt) throws(UDPError) -> Duration? {
        let value = try option(SOL_SOCKET, name, as: timeval.self)
        if value.tv_sec == 0 && value.tv_usec == 0 { return nil }
        return .seconds(Int64(value.tv_sec)) + .microseconds(Int64(value.tv_usec))
    }

    private func setTimeoutOption(_ name: CInt, _ timeout: Duration?) throws(UDPError) {
        var value = timeval()
        if let timeout {
            guard timeout > .zero else {
                throw UDPError(.invalidArgument, .setOption, detail: "a timeout must be positive (nil waits for ever)")
            }
            let (seconds, attoseconds) = timeout.components
            value.tv_sec = numericCast(seconds)
            value.tv_usec = numericCast(attoseconds / 1_000_000_000_000)
            // A timeout under a microsecond would read as zero, which the kernel takes as "wait for ever".
            if value.tv_sec == 0 && value.tv_usec == 0 { value.tv_usec = 1 }
        }
        try setOption(SOL_SOCKET, name, value)
    }
}
