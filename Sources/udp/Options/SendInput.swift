import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `udp send`'s input: MESSAGE, the file of --file, or the lines of stdin, each one datagram.
extension Send {
    /// Calls `body` with MESSAGE, or else with each line of stdin as it comes: each line typed at a terminal
    /// is sent, and answered, before the next is read.
    func forEachMessage(_ body: ([UInt8]) throws -> Void) throws {
        if let file { return try body(Self.datagram(inFile: file)) }
        if let message {
            return try body(hexInput ? HexDigits.bytes(message, ignoringWhitespace: true) ?? [] : Array(message.utf8))
        }
        var lines = InputLines()
        var number = 0
        while let line = try lines.next() {
            number += 1
            guard hexInput else {
                try body(line)
                continue
            }
            guard let bytes = HexDigits.bytes(String(decoding: line, as: UTF8.self), ignoringWhitespace: true) else {
                throw RuntimeFailure("stdin line \(number) is not hex digits in pairs")
            }
            try body(bytes)
        }
    }

    /// The bytes of `path`, refused at once when they cannot be one datagram.
    private static func datagram(inFile path: String) throws -> [UInt8] {
        let limit = AddressFamily.inet6.maximumPayloadSize
        do {
            return try FileIO.readAll(path: path, limit: limit)
        } catch {
            if error.errno == .fileTooLarge {
                // The read stops at the limit; a regular file's size is known without reading the rest.
                let size = fileSize(path).map { "\($0) bytes" } ?? "over \(limit) bytes"
                throw RuntimeFailure(
                    "\(path) is \(size), larger than one datagram can carry (\(limit) bytes at most)"
                )
            }
            throw RuntimeFailure("\(path): \(error.reason)")
        }
    }

    /// The size of the regular file at `path`; nil for a pipe or a device, whose size is not known ahead.
    private static func fileSize(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int(info.st_size)
    }
}
