#if Sealing
import UDP
import UDPSeal

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Keygen {
    func run() throws {
        let text = SealKey.generate(id: id).fileText
        guard let output else {
            Console.raw(Array(text.utf8))
            return
        }
        // O_EXCL: never overwrite a key that may be in use.
        let descriptor: CInt
        do {
            descriptor = try FileIO.open(output, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        } catch {
            throw RuntimeFailure("cannot create \(output): \(error.reason)")
        }
        defer { try? closeDescriptor(descriptor) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { buffer in
            Result { () throws(UDPError) in try FileIO.writeAll(descriptor, buffer, what: output) }
        }
        if case .failure(let error) = written {
            throw RuntimeFailure("cannot write \(output): \(error.reason)")
        }
        Console.error("wrote key id \(id) to \(output)")
    }
}
#endif
