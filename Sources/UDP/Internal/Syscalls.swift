import CUDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The one way into the kernel, and the one place where the platforms differ.

/// Calls `call` until it returns something other than -1 with `EINTR`, and turns -1 into a `UDPError`.
///
/// EINTR is retried here and nowhere else (swift-system's `valueOrErrno`, NIO's `syscall(blocking:)`); every
/// system call of this package goes through it, except `close` (``closeDescriptor(_:)``). Errors that can
/// only mean a bug (a descriptor that is not open, a bad pointer, a socket call on something that is not a
/// socket) stop the program, as NIO's `isUnacceptableErrno` does: carrying on would act on a descriptor
/// someone else now owns. Only socket calls report `ENOTSOCK`, so the same check serves calls on files,
/// pipes and eventfds unchanged.
///
/// - Parameters:
///   - operation: What the error says failed.
///   - address: The peer or local address the error names, if any.
///   - validating: True while checking a descriptor handed in from outside (``UDPSocket/init(adopting:)``):
///     `EBADF` and `ENOTSOCK` then describe the caller's descriptor, and are thrown, not trapped.
///   - call: The system call; -1 with `errno` set means failure, any other value is its result.
@inline(__always)  // the hot paths' only wrapper: a call and a compare, as NIO's syscall()
package func retryingInterrupts<T: FixedWidthInteger>(
    _ operation: UDPError.Operation,
    address: SocketAddress? = nil,
    validating: Bool = false,
    _ call: () -> T
) throws(UDPError) -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        let error = Errno.current
        if error == .interrupted { continue }
        precondition(
            error.rawValue != EFAULT
                && (validating || (error != .badFileDescriptor && error.rawValue != ENOTSOCK)),
            "\(operation) failed with \(error): a bug in the UDP library or its caller's use of a raw descriptor"
        )
        throw UDPError(operation, errno: error, address: address)
    }
}

/// Closes `descriptor`, once: never retried.
///
/// Linux releases the descriptor even when `close` reports `EINTR`, so a retry could close one that another
/// thread has just been given (LWN 576478); like NIO's `close(descriptor:)`, EINTR counts as closed. `EBADF`
/// means the descriptor was closed already, twice-closing being a bug, so it stops the program.
///
/// - Throws: `UDPError` with the errno of a failure to flush (`EIO`); the descriptor is closed even then.
package func closeDescriptor(_ descriptor: CInt) throws(UDPError) {
    guard close(descriptor) == -1 else { return }
    let error = Errno.current
    if error == .interrupted { return }
    precondition(error != .badFileDescriptor, "close(\(descriptor)) failed with \(error): closed twice")
    throw UDPError(.close, errno: error)
}

#if canImport(Darwin)
let datagramSocketType = SOCK_DGRAM
#else
let datagramSocketType = CInt(SOCK_DGRAM.rawValue)
#endif

/// Opens a UDP socket, close-on-exec, and non-blocking if asked: in the `socket` call itself where the
/// platform allows (`SOCK_CLOEXEC`, `SOCK_NONBLOCK`, as socket2's `Socket::new` does), so no `fork` and `exec`
/// in between leaks it.
func openDatagramSocket(_ family: AddressFamily, nonBlocking: Bool) throws(UDPError) -> CInt {
    #if canImport(Darwin)
    let descriptor = try retryingInterrupts(.socket) { socket(family.rawValue, SOCK_DGRAM, cudp_IPPROTO_UDP) }
    do throws(UDPError) {
        _ = try retryingInterrupts(.control) { fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        if nonBlocking { try setStatusFlag(O_NONBLOCK, true, on: descriptor) }
    } catch {
        _ = try? closeDescriptor(descriptor)  // never leak the half-made descriptor (NIO's makeSocket)
        throw error
    }
    return descriptor
    #else
    let flags = CInt(SOCK_CLOEXEC.rawValue) | (nonBlocking ? CInt(SOCK_NONBLOCK.rawValue) : 0)
    return try retryingInterrupts(.socket) { socket(family.rawValue, datagramSocketType | flags, cudp_IPPROTO_UDP) }
    #endif
}

/// Whether `descriptor` has file status flag `flag` (`O_NONBLOCK`) set.
func hasStatusFlag(_ flag: CInt, on descriptor: CInt, validating: Bool = false) throws(UDPError) -> Bool {
    try retryingInterrupts(.control, validating: validating) { fcntl(descriptor, F_GETFL) } & flag != 0
}

/// Sets or clears file status flag `flag` of `descriptor`, with no second call when it is as asked already.
func setStatusFlag(_ flag: CInt, _ on: Bool, on descriptor: CInt) throws(UDPError) {
    let flags = try retryingInterrupts(.control) { fcntl(descriptor, F_GETFL) }
    let wanted = on ? flags | flag : flags & ~flag
    if wanted != flags { _ = try retryingInterrupts(.control) { fcntl(descriptor, F_SETFL, wanted) } }
}

/// The protocol of socket `descriptor` (`SO_PROTOCOL`). Elsewhere than Linux there is no asking; UDP is
/// assumed, the only datagram protocol an unprivileged socket can have there.
func socketProtocol(_ descriptor: CInt, validating: Bool) throws(UDPError) -> CInt {
    #if os(Linux)
    return try integerOption(descriptor, SOL_SOCKET, SO_PROTOCOL, validating: validating)
    #else
    return cudp_IPPROTO_UDP
    #endif
}

/// Reads an integer socket option of `descriptor`.
func integerOption(_ descriptor: CInt, _ level: CInt, _ name: CInt, validating: Bool = false) throws(UDPError) -> CInt {
    var value: CInt = 0
    var length = socklen_t(MemoryLayout<CInt>.size)
    _ = try retryingInterrupts(.getOption, validating: validating) {
        getsockopt(descriptor, level, name, &value, &length)
    }
    return value
}

/// `MSG_TRUNC` asks Linux for the real length of a truncated datagram (elsewhere it is only an output flag).
#if os(Linux)
let receiveFlags = cudp_MSG_TRUNC
#else
let receiveFlags: CInt = 0
#endif

/// A peer that has gone away must not kill the process with SIGPIPE (`MSG_NOSIGNAL`).
let sendFlags = cudp_MSG_NOSIGNAL

// Free functions, because methods of the same names on UDPSocket shadow the C calls inside it.
func systemBind(_ fd: CInt, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> CInt {
    bind(fd, address, length)
}
func systemConnect(_ fd: CInt, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> CInt {
    connect(fd, address, length)
}
func systemSend(_ fd: CInt, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: CInt) -> Int {
    send(fd, buffer, count, flags)
}

extension SocketAddress {
    /// Decodes a kernel socket address; nil for families other than IPv4 and IPv6.
    init?(_ pointer: UnsafePointer<sockaddr>?, length: socklen_t) {
        guard let pointer else { return nil }
        switch CInt(pointer.pointee.sa_family) {
        case AF_INET where length >= MemoryLayout<sockaddr_in>.size:
            let address = UnsafeRawPointer(pointer).loadUnaligned(as: sockaddr_in.self)
            self = .v4(V4(ip: IPv4Address(address.sin_addr), port: UInt16(bigEndian: address.sin_port)))
        case AF_INET6 where length >= MemoryLayout<sockaddr_in6>.size:
            let address = UnsafeRawPointer(pointer).loadUnaligned(as: sockaddr_in6.self)
            self = .v6(
                V6(
                    ip: IPv6Address(address.sin6_addr),
                    port: UInt16(bigEndian: address.sin6_port),
                    flowInfo: UInt32(bigEndian: address.sin6_flowinfo),
                    scopeID: address.sin6_scope_id
                )
            )
        default:
            return nil
        }
    }

    /// Decodes an address the kernel wrote into a `sockaddr_storage`.
    init?(storage: UnsafeRawPointer, length: socklen_t) {
        self.init(storage.assumingMemoryBound(to: sockaddr.self), length: length)
    }

    /// Writes this address into `storage` (at least `sockaddr_storage` large) and returns its length.
    func write(to storage: UnsafeMutableRawPointer) -> socklen_t {
        switch self {
        case .v4(let address):
            var c = sockaddr_in()
            c.sin_family = sa_family_t(AF_INET)
            c.sin_port = address.port.bigEndian
            c.sin_addr = address.ip.cAddress
            storage.storeBytes(of: c, as: sockaddr_in.self)
            return socklen_t(MemoryLayout<sockaddr_in>.size)
        case .v6(let address):
            var c = sockaddr_in6()
            c.sin6_family = sa_family_t(AF_INET6)
            c.sin6_port = address.port.bigEndian
            c.sin6_flowinfo = address.flowInfo.bigEndian
            c.sin6_addr = address.ip.cAddress
            c.sin6_scope_id = address.scopeID
            storage.storeBytes(of: c, as: sockaddr_in6.self)
            return socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
    }

    /// Calls `body` with this address as a C `sockaddr` and its length, on the stack.
    func withSockAddr<R, E: Error>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(E) -> R) throws(E) -> R {
        var storage = sockaddr_storage()
        return try withUnsafeMutableBytes(of: &storage) { (raw) throws(E) -> R in
            let length = write(to: raw.baseAddress!)
            return try body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }
}
extension String {
    /// Decodes a NUL-terminated C string held in an array.
    init(cStringBuffer buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self.init(decoding: bytes, as: UTF8.self)
    }
}
