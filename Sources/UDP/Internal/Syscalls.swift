#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Calls `call` until it returns something other than -1 with `EINTR`, and turns -1 into a `UDPError`.
///
/// EINTR is retried here and nowhere else (swift-system's `valueOrErrno`, NIO's `syscall(blocking:)`).
/// Errors that can only mean a bug in this library (a descriptor that is not ours, a bad pointer) stop
/// the program, as NIO's `isUnacceptableErrno` does: carrying on would act on someone else's descriptor.
@inline(__always)
package func retryingInterrupts<T: FixedWidthInteger>(
    _ operation: UDPError.Operation,
    address: SocketAddress? = nil,
    _ call: () -> T
) throws(UDPError) -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        let error = Errno.current
        if error == .interrupted { continue }
        precondition(
            error != .badFileDescriptor && error.rawValue != EFAULT && error.rawValue != ENOTSOCK,
            "\(operation) failed with \(error): a bug in the UDP library or its caller's use of a raw descriptor"
        )
        throw UDPError(operation, errno: error, address: address)
    }
}

#if canImport(Darwin)
let datagramSocketType = SOCK_DGRAM
let closeOnExecFlag: CInt = 0
let nonBlockingSocketFlag: CInt = 0
#else
let datagramSocketType = CInt(SOCK_DGRAM.rawValue)
let closeOnExecFlag = CInt(SOCK_CLOEXEC.rawValue)
let nonBlockingSocketFlag = CInt(SOCK_NONBLOCK.rawValue)
#endif

// Free functions, because methods of the same names on UDPSocket shadow the C calls inside it.
func systemClose(_ descriptor: CInt) -> CInt { close(descriptor) }
func systemBind(_ fd: CInt, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> CInt {
    bind(fd, address, length)
}
func systemConnect(_ fd: CInt, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> CInt {
    connect(fd, address, length)
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
func systemSend(_ fd: CInt, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: CInt) -> Int {
    send(fd, buffer, count, flags)
}

extension String {
    /// Decodes a NUL-terminated C string held in an array.
    init(cStringBuffer buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self.init(decoding: bytes, as: UTF8.self)
    }
}
