/// Every failure of the `UDP` library: what was attempted, on which address, and why.
///
/// Its `description` is one line a person can act on, in the shape Go's `net.OpError` made familiar:
/// `bind 0.0.0.0:9000: address already in use`.
public struct UDPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is, independent of the errno that reported it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Value: Hashable, Sendable {
            case system, timedOut, wouldBlock, connectionRefused, messageTooLarge, invalidAddress
            case nameResolution, unknownInterface, invalidArgument, unsupported
        }
        let value: Value

        /// A system call failed; `errno` says why.
        public static let system = Code(value: .system)
        /// The receive or send timeout passed before anything happened (`EAGAIN` under `SO_RCVTIMEO`).
        public static let timedOut = Code(value: .timedOut)
        /// A non-blocking socket had nothing to do (`EAGAIN`); try again when it is ready.
        public static let wouldBlock = Code(value: .wouldBlock)
        /// The peer's host answered with ICMP port unreachable: nobody listens there.
        public static let connectionRefused = Code(value: .connectionRefused)
        /// The datagram is larger than the protocol maximum or the path MTU; see `maximumSize`.
        public static let messageTooLarge = Code(value: .messageTooLarge)
        /// Text that is not an IP address with a port.
        public static let invalidAddress = Code(value: .invalidAddress)
        /// A host name did not resolve (or not to the family asked for).
        public static let nameResolution = Code(value: .nameResolution)
        /// No network interface has that name or index.
        public static let unknownInterface = Code(value: .unknownInterface)
        /// An argument the library rejects before calling the kernel.
        public static let invalidArgument = Code(value: .invalidArgument)
        /// The platform or kernel does not offer this feature.
        public static let unsupported = Code(value: .unsupported)

        public var description: String { "\(value)" }
    }

    /// The operation that failed, printed first in the message.
    public struct Operation: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// `socket(2)`: creating the socket, or adopting a descriptor that is not an open UDP socket.
        public static let socket = Operation(rawValue: "socket")
        /// `bind(2)`: giving the socket its local address and port.
        public static let bind = Operation(rawValue: "bind")
        /// `connect(2)`: fixing the socket's peer, or undoing it (``UDPSocket/disconnect()``).
        public static let connect = Operation(rawValue: "connect")
        /// Sending a datagram or a batch (`sendto`, `sendmsg`, `sendmmsg`).
        public static let send = Operation(rawValue: "send")
        /// Receiving a datagram or a batch, or reading the error queue (`recvmsg`, `recvmmsg`).
        public static let receive = Operation(rawValue: "receive")
        /// `close(2)`, from ``UDPSocket/close()``.
        public static let close = Operation(rawValue: "close")
        /// `getsockopt(2)`: reading a socket option.
        public static let getOption = Operation(rawValue: "getsockopt")
        /// `setsockopt(2)`: setting a socket option, or a value the library refused before asking the
        /// kernel (a hop limit out of range, a timeout of zero).
        public static let setOption = Operation(rawValue: "setsockopt")
        /// `getsockname(2)`: reading ``UDPSocket/localAddress``.
        public static let localAddress = Operation(rawValue: "getsockname")
        /// `getpeername(2)`: reading ``UDPSocket/remoteAddress``.
        public static let remoteAddress = Operation(rawValue: "getpeername")
        /// Parsing text as an address or a port; nothing reached the kernel.
        public static let parse = Operation(rawValue: "parse")
        /// Resolving a host name (`getaddrinfo(3)`, ``SocketAddress/resolve(_:port:family:)``).
        public static let resolve = Operation(rawValue: "resolve")
        /// Finding a network interface by name or index, or listing the host's addresses
        /// (`getifaddrs(3)`).
        public static let interface = Operation(rawValue: "interface")
        /// Joining a multicast group (``UDPSocket/joinMulticastGroup(_:interface:source:)``).
        public static let joinGroup = Operation(rawValue: "join")
        /// Leaving a multicast group (``UDPSocket/leaveMulticastGroup(_:interface:source:)``).
        public static let leaveGroup = Operation(rawValue: "leave")
        /// `fcntl(2)`: reading or changing the descriptor's flags (non-blocking mode, close-on-exec).
        public static let control = Operation(rawValue: "fcntl")
        /// `poll(2)`: waiting for the socket to become readable (the timed receives,
        /// ``UDPSocket/waitUntilReadable(timeout:)``).
        public static let wait = Operation(rawValue: "poll")
    }

    /// What kind of failure this is.
    public var code: Code
    /// What was being attempted.
    public var operation: Operation
    /// The C library's error number, when a system call reported the failure.
    public var errno: Errno?
    /// The address involved, if any: the one bound, connected or sent to.
    public var address: SocketAddress?
    /// Further words for the message: the text that failed to parse, or a resolver's message.
    public var detail: String?
    /// For `.messageTooLarge`: the largest datagram allowed (the protocol maximum, or the path MTU the kernel
    /// reports), when known.
    public var maximumSize: Int?
    /// For `.messageTooLarge`: the size that was refused, when known.
    public var attemptedSize: Int?
    /// For `.messageTooLarge` from path-MTU discovery: the path MTU the kernel reports (`IP_MTU`), when known.
    public var pathMTU: Int?
    /// The queued ICMP error behind this one, with the host that sent it, when the socket's error queue is on
    /// (``UDPSocket/setReceiveErrors(_:)``).
    public var deliveryError: DeliveryError?

    /// Whether the kernel failed the call with an error an ICMP message set on the socket (port or host
    /// unreachable and the like), not one of the call's own. With the error queue on, such an error fails the
    /// next send or receive, whichever datagram drew it, and anyone can forge the ICMP message behind it: a
    /// send that fails so never left, and can be made again.
    public var isFromICMP: Bool { UDPSocket.isFromICMP(errno) }

    /// Creates an error with the code given: for failures the library, or a layer above it, detects itself.
    /// ``init(_:errno:address:)`` classifies a failed system call's errno instead.
    ///
    /// - Parameters:
    ///   - code: What kind of failure it is.
    ///   - operation: What was being attempted.
    ///   - errno: The C library's error number, when a system call reported the failure.
    ///   - address: The address involved, if any.
    ///   - detail: Further words for the message, such as the text that failed to parse.
    public init(
        _ code: Code,
        _ operation: Operation,
        errno: Errno? = nil,
        address: SocketAddress? = nil,
        detail: String? = nil
    ) {
        self.code = code
        self.operation = operation
        self.errno = errno
        self.address = address
        self.detail = detail
    }

    /// Classifies an errno reported by `operation`.
    public init(_ operation: Operation, errno: Errno, address: SocketAddress? = nil) {
        let code: Code
        switch errno {
        case .connectionRefused: code = .connectionRefused
        case .messageTooLong: code = .messageTooLarge
        case .noSuchDevice: code = .unknownInterface
        default: code = .system
        }
        self.init(code, operation, errno: errno, address: address)
    }

    /// What went wrong without the operation: the C library's message for a failed system call (`no such
    /// file or directory`), else the whole description. For messages that name the file or address themselves.
    package var reason: String { errno.map { "\($0)" } ?? description }

    public var description: String {
        // Parse, resolve and interface errors carry a complete sentence that quotes the input.
        if errno == nil, let detail, [.parse, .resolve, .interface].contains(operation) { return detail }
        var text = operation.rawValue
        if let address { text += " \(address)" }
        text += ": "
        switch code {
        case .timedOut:
            text += "timed out"
        case .messageTooLarge where attemptedSize != nil || maximumSize != nil:
            text += "datagram of \(attemptedSize.map(String.init) ?? "?") bytes is larger than"
            text += maximumSize.map { " the maximum of \($0) bytes" } ?? " the path allows"
        default:
            if let errno { text += errno.description }
            if let detail { text += errno == nil ? detail : " (\(detail))" }
            if errno == nil && detail == nil { text += "\(code)" }
            if let deliveryError {
                text += " (\(deliveryError.kind)\(deliveryError.offender.map { ", from \($0)" } ?? ""))"
            }
        }
        if code == .messageTooLarge, attemptedSize != nil || maximumSize != nil {
            if let pathMTU { text += " (path MTU \(pathMTU))" } else if let detail { text += " (\(detail))" }
        }
        return text
    }
}
