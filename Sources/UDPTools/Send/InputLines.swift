import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The lines of standard input (or another descriptor) as raw bytes (no decoding, so binary input survives),
/// without their `\n` (and a `\r` before it): the datagrams `udp send` reads, one a line. A last line without a
/// newline still counts; a read error is an error, not the end. Each line is handed over as soon as it is
/// complete, so a line typed at a terminal is sent, and answered, before the next is read.
public struct InputLines {
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private let descriptor: CInt

    /// - Parameter descriptor: Where to read; standard input by default. It is not closed.
    public init(descriptor: CInt = STDIN_FILENO) { self.descriptor = descriptor }

    /// The next line, without its line break; nil at the end of the input.
    ///
    /// - Throws: `UDPError` when the read fails.
    public mutating func next() throws(UDPError) -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[start..<newline])
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                start = newline + 1
                return line
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                return line
            }
            buffer.removeFirst(start)
            start = 0
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let descriptor = descriptor
            let count = try chunk.withUnsafeMutableBytes { bytes in
                Result { () throws(UDPError) in try FileIO.read(descriptor, into: bytes, what: "standard input") }
            }.get()
            if count == 0 {
                atEnd = true
            } else {
                buffer += chunk[..<count]
            }
        }
    }
}
