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
        do {
            descriptor = try FileIO.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        } catch {
            throw RuntimeFailure("\(path): \(error.reason)")
        }
    }

    deinit {
        try? closeDescriptor(descriptor)
    }

    func write(_ text: String) throws {
        var text = text
        let result = text.withUTF8 { bytes in
            Result { () throws(UDPError) in try FileIO.writeAll(descriptor, UnsafeRawBufferPointer(bytes), what: path) }
        }
        if case .failure(let error) = result {
            throw RuntimeFailure("\(path): \(error.reason)")
        }
    }
}
