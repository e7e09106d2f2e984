import Crypto
import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pre-shared key for sealed datagrams: 256 bits for ChaCha20-Poly1305, and the id that names it in each
/// datagram (so keys can be rotated: a receiver holds the old and the new).
///
/// The key file is text, one `name: value` a line, `#` comments:
///
/// ```
/// # swift-udp key file: keep it secret (mode 600)
/// key-id: 1
/// chacha20-poly1305: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
/// ```
///
/// The key is 64 hexadecimal digits. A file that group or others can read is refused, as ssh refuses such
/// a private key: a leaked key lets anyone forge datagrams.
public struct SealKey: Sendable {
    /// The id carried in each sealed datagram.
    public var id: UInt32
    /// The key itself.
    public var key: SymmetricKey

    /// A key with its id.
    ///
    /// - Parameters:
    ///   - id: The id sealed datagrams carry; a receiver holding several keys picks the one with this id.
    ///   - key: A 256-bit key; any other size stops the program (a precondition).
    public init(id: UInt32, key: SymmetricKey) {
        precondition(key.bitCount == 256, "ChaCha20-Poly1305 takes a 256-bit key")
        self.id = id
        self.key = key
    }

    /// A new random key (from the system's secure generator).
    public static func generate(id: UInt32 = 1) -> SealKey {
        SealKey(id: id, key: SymmetricKey(size: .bits256))
    }

    /// The key file's text for this key.
    public var fileText: String {
        let hex = key.withUnsafeBytes { bytes in bytes.map { byte in hexDigits(byte) }.joined() }
        return """
            # swift-udp key file: keep it secret (chmod 600). Datagrams sealed with it carry key-id \(id).
            key-id: \(id)
            chacha20-poly1305: \(hex)

            """
    }

    /// Parses a key file's text: a `key-id` line and a `chacha20-poly1305` line, in any order, with blank
    /// lines and `#` comments anywhere.
    ///
    /// - Parameter text: The file's contents, as ``fileText`` writes them.
    /// - Throws: ``SealKeyError/malformed(_:)`` for a line that is not `name: value`, an unknown name, an id
    ///   that is not a 32-bit number, a key that is not 64 hexadecimal digits, or a missing line.
    public init(fileText text: String) throws(SealKeyError) {
        var id: UInt32?
        var keyBytes: [UInt8]?
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("'\(line)' is not `name: value`") }
            let name = line[..<colon].trimmingSpaces
            let value = line[line.index(after: colon)...].trimmingSpaces
            switch name {
            case "key-id":
                guard let number = UInt32(value) else { throw .malformed("key-id '\(value)' is not a number") }
                id = number
            case "chacha20-poly1305":
                guard value.utf8.count == 64, let bytes = HexDigits.bytes(value) else {
                    throw .malformed("the key must be 64 hexadecimal digits")
                }
                keyBytes = bytes
            default:
                throw .malformed("unknown field '\(name)'")
            }
        }
        guard let id else { throw .malformed("no key-id line") }
        guard let keyBytes else { throw .malformed("no chacha20-poly1305 line") }
        self.init(id: id, key: SymmetricKey(data: keyBytes))
    }

    /// Reads a key file, refusing one that group or others may read.
    ///
    /// - Parameter path: The key file, as `udp keygen --output` writes it (mode 600).
    /// - Throws: ``SealKeyError/unreadable(_:_:)`` when it cannot be opened or read;
    ///   ``SealKeyError/tooOpen(_:mode:)`` when its mode lets group or others in;
    ///   ``SealKeyError/malformed(_:)`` when it is over 64 KiB or its text does not parse.
    public init(contentsOfFile path: String) throws(SealKeyError) {
        func unreadable(_ error: UDPError) -> SealKeyError {
            .unreadable(path, error.reason)
        }
        let descriptor: CInt
        do throws(UDPError) {
            descriptor = try FileIO.open(path, O_RDONLY)
        } catch {
            throw unreadable(error)
        }
        defer { try? closeDescriptor(descriptor) }
        var status = stat()
        do throws(UDPError) {
            _ = try retryingInterrupts(.init(rawValue: "stat \(path)")) { fstat(descriptor, &status) }
        } catch {
            throw unreadable(error)
        }
        let mode = status.st_mode & 0o777
        guard mode & 0o077 == 0 else { throw .tooOpen(path, mode: UInt32(mode)) }
        let bytes: [UInt8]
        do throws(UDPError) {
            bytes = try FileIO.readAll(descriptor, limit: 65_536, what: path)
        } catch {
            if error.errno == .fileTooLarge { throw .malformed("\(path) is too large for a key file") }
            throw unreadable(error)
        }
        try self.init(fileText: String(decoding: bytes, as: UTF8.self))
    }
}

private func hexDigits(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed()
            .reduce(into: Substring()) { $0.append($1) }
    }
}

/// A key file that cannot be used.
public enum SealKeyError: Error, Sendable, CustomStringConvertible {
    /// The file at the path (first) could not be opened or read, for the reason given (second).
    case unreadable(String, String)
    /// The file at the path can be read by group or others; `mode` holds its permission bits (print in octal).
    case tooOpen(String, mode: UInt32)
    /// The text is not a key file; the string says what is wrong.
    case malformed(String)

    /// A sentence for people, naming the file and what to do about it.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read key file \(path): \(reason)"
        case .tooOpen(let path, let mode):
            "key file \(path) is readable by others (mode \(String(mode, radix: 8))): run chmod 600 \(path)"
        case .malformed(let reason): "bad key file: \(reason)"
        }
    }
}
