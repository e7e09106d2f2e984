import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file named on the command line, opened (created or truncated) before a run and written after it, so a
/// path that cannot be written fails at once rather than after the measurement.
final class OutputFile {
    let path: String
    private let descriptor: CInt

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw RuntimeFailure("\(path): \(Errno.current)") }
    }

    deinit {
        close(descriptor)
    }

    func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = writeBytes(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw RuntimeFailure("\(path): \(Errno.current)")
                }
                offset += written
            }
        }
    }
}

private func writeBytes(_ descriptor: CInt, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}
