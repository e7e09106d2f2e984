import UDP
import UDPTools

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

    /// The bytes of `path`, refused in the command's words when they cannot be one datagram.
    private static func datagram(inFile path: String) throws -> [UInt8] {
        do { return try DatagramFile.read(path: path) } catch .tooLarge(let size, let limit) {
            let size = size.map { "\($0) bytes" } ?? "over \(limit) bytes"
            throw RuntimeFailure("\(path) is \(size), larger than one datagram can carry (\(limit) bytes at most)")
        } catch .unreadable(let reason) { throw RuntimeFailure("\(path): \(reason)") }
    }
}
