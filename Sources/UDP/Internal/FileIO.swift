#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole reads and writes of files, pipes and terminals for the rest of this package (the command line's
/// console, key files, `/proc`), through ``retryingInterrupts(_:address:_:)`` like every other system call:
/// a read error is an error, never an end of file.
package enum FileIO {
    /// Opens `path` (`open(2)` with `O_CLOEXEC` added); the error names the path.
    package static func open(_ path: String, _ flags: CInt, mode: mode_t = 0) throws(UDPError) -> CInt {
        try retryingInterrupts(operation("open", path)) { systemOpen(path, flags | O_CLOEXEC, mode) }
    }

    /// Reads what is there, up to `buffer.count` bytes: 0 only at the end of the file.
    package static func read(
        _ descriptor: CInt,
        into buffer: UnsafeMutableRawBufferPointer,
        what: String = "input"
    ) throws(UDPError) -> Int {
        try retryingInterrupts(operation("read", what)) { systemRead(descriptor, buffer.baseAddress, buffer.count) }
    }

    /// Reads `descriptor` to its end.
    ///
    /// - Parameter limit: The most bytes accepted; more is an error (`EFBIG`), so a huge or endless file
    ///   cannot exhaust memory.
    package static func readAll(_ descriptor: CInt, limit: Int, what: String) throws(UDPError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = try chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(UDPError) in try read(descriptor, into: buffer, what: what) }
            }.get()
            guard count > 0 else { return bytes }
            guard bytes.count + count <= limit else {
                throw UDPError(.system, operation("read", what), errno: Errno(rawValue: EFBIG))
            }
            bytes += chunk[..<count]
        }
    }

    /// Reads the file at `path` to its end (at most `limit` bytes).
    package static func readAll(path: String, limit: Int = 1 << 24) throws(UDPError) -> [UInt8] {
        let descriptor = try open(path, O_RDONLY)
        defer { try? closeDescriptor(descriptor) }
        return try readAll(descriptor, limit: limit, what: path)
    }

    /// Writes all of `buffer`, however many calls the kernel needs (a pipe may take part of it).
    package static func writeAll(
        _ descriptor: CInt,
        _ buffer: UnsafeRawBufferPointer,
        what: String = "output"
    ) throws(UDPError) {
        var offset = 0
        while offset < buffer.count {
            offset += try retryingInterrupts(operation("write", what)) {
                systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
        }
    }

    private static func operation(_ call: String, _ what: String) -> UDPError.Operation {
        UDPError.Operation(rawValue: "\(call) \(what)")
    }
}

// Free functions, because FileIO's own `open`, `read` and `write` shadow the C calls inside it.
private func systemOpen(_ path: String, _ flags: CInt, _ mode: mode_t) -> CInt { open(path, flags, mode) }
private func systemRead(_ fd: CInt, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
private func systemWrite(_ fd: CInt, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
