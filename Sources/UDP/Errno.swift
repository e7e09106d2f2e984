#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error number reported by the C library, named the way swift-system names it.
///
/// Compare with `~=` in a `catch` or `switch`: `case .addressInUse:`.
public struct Errno: RawRepresentable, Error, Hashable, Sendable, CustomStringConvertible {
    /// The C `errno` value.
    public var rawValue: CInt

    /// Creates an error number from its C value.
    public init(rawValue: CInt) { self.rawValue = rawValue }

    /// The calling thread's current `errno`.
    public static var current: Errno { Errno(rawValue: errno) }

    /// The C library's message, starting lower case so it reads well after a colon:
    /// `bind 0.0.0.0:9000: address already in use`.
    public var description: String {
        guard let text = strerror(rawValue) else { return "error \(rawValue)" }
        var message = String(cString: text)
        if let first = message.first, first.isUppercase, !message.dropFirst().prefix(1).allSatisfy(\.isUppercase) {
            message = first.lowercased() + message.dropFirst()
        }
        return message
    }

    /// Whether `rhs` is this error number, thrown as an `Errno` or as the ``UDPError/errno`` of a `UDPError`:
    /// what lets `catch Errno.addressInUse` and `case .connectionRefused:` match a thrown error.
    public static func ~= (lhs: Errno, rhs: any Error) -> Bool {
        if let errno = rhs as? Errno { return errno == lhs }
        if let error = rhs as? UDPError { return error.errno == lhs }
        return false
    }

    /// `EINTR`: a signal arrived during a call; the library retries these itself.
    public static var interrupted: Errno { Errno(rawValue: EINTR) }
    /// `EAGAIN` / `EWOULDBLOCK`: nothing to do now on a non-blocking socket, or a timeout passed.
    public static var wouldBlock: Errno { Errno(rawValue: EAGAIN) }
    /// `EADDRINUSE`.
    public static var addressInUse: Errno { Errno(rawValue: EADDRINUSE) }
    /// `EADDRNOTAVAIL`: the address is not one of this host's.
    public static var addressNotAvailable: Errno { Errno(rawValue: EADDRNOTAVAIL) }
    /// `EAFNOSUPPORT`.
    public static var addressFamilyNotSupported: Errno { Errno(rawValue: EAFNOSUPPORT) }
    /// `ECONNREFUSED`: an ICMP port-unreachable came back for an earlier datagram.
    public static var connectionRefused: Errno { Errno(rawValue: ECONNREFUSED) }
    /// `EMSGSIZE`: the datagram is larger than the protocol or the path allows.
    public static var messageTooLong: Errno { Errno(rawValue: EMSGSIZE) }
    /// `EACCES`: for example a broadcast without `SO_BROADCAST`, or a privileged port.
    public static var permissionDenied: Errno { Errno(rawValue: EACCES) }
    /// `EPERM`.
    public static var notPermitted: Errno { Errno(rawValue: EPERM) }
    /// `EINVAL`.
    public static var invalidArgument: Errno { Errno(rawValue: EINVAL) }
    /// `ENOTCONN`.
    public static var notConnected: Errno { Errno(rawValue: ENOTCONN) }
    /// `ENETUNREACH`.
    public static var networkUnreachable: Errno { Errno(rawValue: ENETUNREACH) }
    /// `EHOSTUNREACH`.
    public static var hostUnreachable: Errno { Errno(rawValue: EHOSTUNREACH) }
    /// `ENOBUFS`.
    public static var noBufferSpace: Errno { Errno(rawValue: ENOBUFS) }
    /// `ENODEV`: no such network interface.
    public static var noSuchDevice: Errno { Errno(rawValue: ENODEV) }
    /// `EBADF`.
    public static var badFileDescriptor: Errno { Errno(rawValue: EBADF) }
    /// `ENOPROTOOPT`: the option is not supported by this socket or kernel.
    public static var protocolNotAvailable: Errno { Errno(rawValue: ENOPROTOOPT) }
    /// `EIO`: for example a device that refuses a segmentation offload.
    public static var ioError: Errno { Errno(rawValue: EIO) }
    /// `EMFILE`: this process has as many descriptors open as its limit (`ulimit -n`) allows.
    public static var tooManyOpenFiles: Errno { Errno(rawValue: EMFILE) }
    /// `EFBIG`: a file larger than the limit asked for (`FileIO`'s reads) or allowed.
    public static var fileTooLarge: Errno { Errno(rawValue: EFBIG) }
    /// `ENFILE`: the whole system has as many files open as it allows.
    public static var tooManyOpenFilesInSystem: Errno { Errno(rawValue: ENFILE) }
}
