import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The lines of standard input as raw bytes (no decoding, so binary input survives), without their `\n`
/// (and a `\r` before it). A last line without a newline still counts; a read error is an error, not the end.
struct InputLines {
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private let descriptor: CInt

    init(descriptor: CInt = STDIN_FILENO) { self.descriptor = descriptor }

    mutating func next() throws(UDPError) -> [UInt8]? {
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
