import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file sent as one datagram, bytes as they are (`udp send --file`: a captured DNS query, a CoAP message).
public enum DatagramFile {
    /// Why a file cannot be sent as one datagram.
    public enum ReadError: Error, Sendable, Equatable {
        /// It holds more than `limit` bytes; `size` where it is known ahead (a regular file), nil for a pipe or
        /// a device.
        case tooLarge(size: Int?, limit: Int)
        /// It cannot be read, for `reason` (`no such file or directory`).
        case unreadable(reason: String)
    }

    /// The most a file may hold: the largest UDP payload, IPv6's.
    public static let limit = AddressFamily.inet6.maximumPayloadSize

    /// The bytes of the file at `path`, refused at once when they cannot be one datagram.
    ///
    /// - Throws: ``ReadError``.
    public static func read(path: String) throws(ReadError) -> [UInt8] {
        do {
            return try FileIO.readAll(path: path, limit: limit)
        } catch {
            // The read stops at the limit; a regular file's size is known without reading the rest.
            if error.errno == .fileTooLarge { throw .tooLarge(size: regularFileSize(path), limit: limit) }
            throw .unreadable(reason: error.reason)
        }
    }

    /// The size of the regular file at `path`; nil for a pipe or a device, whose size is not known ahead.
    private static func regularFileSize(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int(info.st_size)
    }
}
