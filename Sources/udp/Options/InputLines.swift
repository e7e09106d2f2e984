#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The lines of standard input as raw bytes (no decoding, so binary input survives), without their `\n`
/// (and a `\r` before it). A last line without a newline still counts.
struct InputLines: IteratorProtocol, Sequence {
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private let descriptor: CInt

    init(descriptor: CInt = STDIN_FILENO) { self.descriptor = descriptor }

    mutating func next() -> [UInt8]? {
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
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                atEnd = true
            } else {
                buffer += chunk[..<count]
            }
        }
    }
}
