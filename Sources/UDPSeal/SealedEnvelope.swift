import Crypto

/// The wire format of a sealed datagram: a header in the clear but authenticated, then the payload
/// encrypted with ChaCha20-Poly1305, then the 16-byte tag. All integers big-endian.
///
/// | bytes | field | |
/// |---|---|---|
/// | 0 | magic `0x53` (`S`) | |
/// | 1 | version, 1 | |
/// | 2–5 | key id | which pre-shared key sealed it |
/// | 6–9 | sender id | random per sender, chosen at start; its top bit is the direction: 0 request, 1 reply |
/// | 10–17 | sequence | per sender, from 0, never repeated |
/// | 18… | ciphertext | as long as the payload |
/// | last 16 | tag | Poly1305 over header and ciphertext |
///
/// The nonce is the sender id followed by the sequence (12 bytes): unique as long as no two senders sharing
/// a key pick the same random id (a chance of about n²/2³³ for n senders) and no sender reuses a sequence
/// number. A restarted sender picks a new id, so starting again from 0 is safe.
///
/// The direction bit stops reflection: without it, anyone on the path could send a client's own sealed
/// request back to it as a "reply" (it opens: same key, a sender the client never heard), or bounce one
/// server's sealed reply to another server with the same key, which would answer, and so on for ever. A
/// client opens replies only and a server requests only (``Opener/init(keys:maximumSenders:accepting:)``);
/// the bit is in the authenticated header, so flipping it breaks the tag.
public enum SealedEnvelope {
    /// Which way a sealed datagram travels, carried in the top bit of its sender id.
    public enum Direction: Sendable, Hashable {
        /// From a client to a server (top bit 0).
        case request
        /// From a server back to a client (top bit 1).
        case reply

        static let replyBit: UInt32 = 0x8000_0000

        /// The direction a sender id carries.
        public init(sender: UInt32) { self = sender & Self.replyBit == 0 ? .request : .reply }
    }

    /// The first byte of every sealed datagram, `0x53` (ASCII `S`): tells a sealed datagram from plain text
    /// cheaply, before any cryptography.
    public static let magic: UInt8 = 0x53
    /// The format's version, the second byte; an opener refuses any other as ``Opener/Rejection/malformed``.
    public static let version: UInt8 = 1
    /// Bytes of the header in the clear: magic, version, key id, sender id and sequence (1 + 1 + 4 + 4 + 8).
    public static let headerSize = 18
    /// Bytes of the Poly1305 tag at the end of every sealed datagram.
    public static let tagSize = 16
    /// Bytes a sealed datagram adds to its payload.
    public static let overhead = headerSize + tagSize

    static func nonce(sender: UInt32, sequence: UInt64) -> ChaChaPoly.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        writeBigEndian(sender, into: &bytes, at: 0)
        writeBigEndian(sequence, into: &bytes, at: 4)
        return try! ChaChaPoly.Nonce(data: bytes)  // 12 bytes is the nonce size: cannot fail
    }
}

/// Seals datagrams for one sender: one sender id, a sequence number that only grows.
public struct Sealer: Sendable {
    /// The pre-shared key every datagram is sealed with; its id goes into each header.
    public let key: SealKey
    /// This sender's random id.
    public let sender: UInt32
    /// The sequence number the next datagram gets.
    public private(set) var nextSequence: UInt64 = 0

    /// - Parameters:
    ///   - key: The pre-shared key.
    ///   - direction: Requests for a client, replies for a server; it sets the top bit of the sender id.
    ///   - sender: The sender id (random by default); its top bit is replaced by the direction.
    public init(
        key: SealKey,
        direction: SealedEnvelope.Direction = .request,
        sender: UInt32 = UInt32.random(in: 1...UInt32.max)
    ) {
        self.key = key
        let id = sender & ~SealedEnvelope.Direction.replyBit
        self.sender = direction == .reply ? id | SealedEnvelope.Direction.replyBit : id
    }

    /// Seals `payload` into a datagram of `payload.count + SealedEnvelope.overhead` bytes, with the next
    /// sequence number.
    ///
    /// - Parameter payload: The bytes to encrypt and authenticate; keep it within the path's datagram size
    ///   less ``SealedEnvelope/overhead``.
    /// - Returns: The datagram to send: header, ciphertext and tag.
    public mutating func seal(_ payload: some Collection<UInt8>) -> [UInt8] {
        let sequence = nextSequence
        nextSequence += 1
        var header = [UInt8](repeating: 0, count: SealedEnvelope.headerSize)
        header[0] = SealedEnvelope.magic
        header[1] = SealedEnvelope.version
        writeBigEndian(key.id, into: &header, at: 2)
        writeBigEndian(sender, into: &header, at: 6)
        writeBigEndian(sequence, into: &header, at: 10)
        let box = try! ChaChaPoly.seal(
            Array(payload),
            using: key.key,
            nonce: SealedEnvelope.nonce(sender: sender, sequence: sequence),
            authenticating: header
        )  // sealing with a valid key and nonce does not fail
        return header + box.ciphertext + box.tag
    }
}

/// Opens sealed datagrams: checks the key id, the tag and the replay window of the sender, and counts every
/// rejection by kind. Never crashes on any input.
public struct Opener: Sendable {
    /// Why a datagram was refused.
    public enum Rejection: Error, Sendable, Equatable, CustomStringConvertible {
        /// Too short, or not this format (magic, version).
        case malformed
        /// Sealed with a key id this opener does not hold.
        case unknownKey(UInt32)
        /// The tag does not verify: forged, corrupted, or sealed with another key of the same id.
        case forged
        /// A sequence number this sender already used.
        case replayed
        /// A sequence number older than the replay window reaches.
        case tooOld
        /// Sealed for the other direction: a request sent back to a client, or a reply sent to a server.
        case wrongDirection

        public var description: String {
            switch self {
            case .malformed: "malformed"
            case .unknownKey(let id): "unknown key id \(id)"
            case .forged: "failed authentication"
            case .replayed: "replayed"
            case .tooOld: "older than the replay window"
            case .wrongDirection: "sealed for the other direction (reflected)"
            }
        }
    }

    /// What was opened and refused so far.
    public struct Counters: Sendable, Equatable {
        /// Datagrams that authenticated and were new: handed to the caller.
        public var opened = 0
        /// Refused as ``Rejection/malformed``: too short, or not this format.
        public var malformed = 0
        /// Refused as ``Rejection/unknownKey(_:)``: a key id this opener does not hold.
        public var unknownKey = 0
        /// Refused as ``Rejection/forged``: the tag did not verify.
        public var forged = 0
        /// Refused as ``Rejection/replayed``: a sequence number its sender already used.
        public var replayed = 0
        /// Refused as ``Rejection/tooOld``: behind the sender's replay window.
        public var tooOld = 0
        /// Refused as ``Rejection/wrongDirection``: a reflected datagram.
        public var wrongDirection = 0
        /// Every refusal, of any kind.
        public var rejected: Int { malformed + unknownKey + forged + replayed + tooOld + wrongDirection }
        /// All zero.
        public init() {}
    }

    /// A payload that authenticated, with who sealed it.
    public struct Opened: Sendable, Equatable {
        /// The decrypted payload, as the sender passed it to ``Sealer/seal(_:)``.
        public var payload: [UInt8]
        /// The id of the key that opened it.
        public var keyID: UInt32
        /// The sender id, direction bit included: the same for every datagram of one ``Sealer``, so it tells
        /// senders apart better than their source address does.
        public var sender: UInt32
        /// The datagram's sequence number from its sender, from 0.
        public var sequence: UInt64
    }

    private let keys: [UInt32: SymmetricKey]
    private var windows: [UInt32: (window: ReplayWindow, lastUsed: UInt64)] = [:]
    private var clock: UInt64 = 0
    /// The most senders whose replay windows are kept; the least recently heard is forgotten first (and
    /// could then replay its old datagrams once: bound it to the senders you expect).
    public let maximumSenders: Int
    /// The direction this opener takes; nil takes both.
    public let accepting: SealedEnvelope.Direction?
    /// What was opened and refused so far, by kind.
    public private(set) var counters = Counters()

    /// - Parameters:
    ///   - keys: The keys that open; their ids must differ.
    ///   - maximumSenders: The most senders whose replay windows are kept.
    ///   - accepting: `.request` for a server, `.reply` for a client: the other direction is refused, so a
    ///     sealed datagram cannot be reflected back to where it came from. nil takes both.
    public init(keys: [SealKey], maximumSenders: Int = 4096, accepting: SealedEnvelope.Direction? = nil) {
        self.keys = Dictionary(keys.map { ($0.id, $0.key) }, uniquingKeysWith: { _, last in last })
        self.maximumSenders = max(1, maximumSenders)
        self.accepting = accepting
    }

    /// Opens `datagram`, or throws the reason it was refused (and counts it).
    ///
    /// The checks run in order: format, key id, tag, then direction and the sender's replay window, so only a
    /// datagram that authenticated can move a window or evict a sender.
    ///
    /// - Parameter datagram: A received datagram, as it arrived; any bytes at all.
    /// - Returns: The payload and who sealed it.
    /// - Throws: The ``Rejection`` that says why it was refused.
    public mutating func open(_ datagram: some Collection<UInt8>) throws(Rejection) -> Opened {
        let opened: Opened
        do throws(Rejection) {
            opened = try authenticate(Array(datagram))
        } catch {
            count(error)
            throw error
        }
        return try admit(opened)
    }

    /// The second half of ``open(_:)``, for a datagram that authenticated: checks its direction and replay
    /// window, and counts the outcome. ``SharedOpener`` runs it under its lock, the first half outside.
    mutating func admit(_ opened: Opened) throws(Rejection) -> Opened {
        do throws(Rejection) {
            try checkReplay(opened)
        } catch {
            count(error)
            throw error
        }
        counters.opened += 1
        return opened
    }

    /// Counts a refusal by its kind.
    mutating func count(_ rejection: Rejection) {
        switch rejection {
        case .malformed: counters.malformed += 1
        case .unknownKey: counters.unknownKey += 1
        case .forged: counters.forged += 1
        case .replayed: counters.replayed += 1
        case .tooOld: counters.tooOld += 1
        case .wrongDirection: counters.wrongDirection += 1
        }
    }

    /// Checks format, key id and tag; touches no state, so threads may run it side by side.
    func authenticate(_ bytes: [UInt8]) throws(Rejection) -> Opened {
        guard bytes.count >= SealedEnvelope.overhead, bytes[0] == SealedEnvelope.magic,
            bytes[1] == SealedEnvelope.version
        else { throw .malformed }
        let keyID: UInt32 = readBigEndian(bytes, at: 2)
        let sender: UInt32 = readBigEndian(bytes, at: 6)
        let sequence: UInt64 = readBigEndian(bytes, at: 10)
        guard let key = keys[keyID] else { throw .unknownKey(keyID) }
        let header = bytes[..<SealedEnvelope.headerSize]
        let ciphertext = bytes[SealedEnvelope.headerSize..<(bytes.count - SealedEnvelope.tagSize)]
        let tag = bytes[(bytes.count - SealedEnvelope.tagSize)...]
        do {
            let box = try ChaChaPoly.SealedBox(
                nonce: SealedEnvelope.nonce(sender: sender, sequence: sequence),
                ciphertext: ciphertext,
                tag: tag
            )
            let payload = try ChaChaPoly.open(box, using: key, authenticating: header)
            return Opened(payload: Array(payload), keyID: keyID, sender: sender, sequence: sequence)
        } catch {
            throw .forged
        }
    }

    /// Only authenticated datagrams reach the window, so a forger cannot move it.
    private mutating func checkReplay(_ opened: Opened) throws(Rejection) {
        if let accepting, SealedEnvelope.Direction(sender: opened.sender) != accepting { throw .wrongDirection }
        clock += 1
        var entry = windows[opened.sender] ?? (ReplayWindow(), clock)
        if windows[opened.sender] == nil && windows.count >= maximumSenders,
            let oldest = windows.min(by: { $0.value.lastUsed < $1.value.lastUsed })
        {
            windows[oldest.key] = nil
        }
        let verdict = entry.window.check(opened.sequence)
        entry.lastUsed = clock
        windows[opened.sender] = entry
        switch verdict {
        case .accepted: return
        case .replayed: throw .replayed
        case .tooOld: throw .tooOld
        }
    }
}

func writeBigEndian<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8], at offset: Int) {
    for index in 0..<MemoryLayout<T>.size {
        bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * (MemoryLayout<T>.size - 1 - index)))
    }
}

func readBigEndian<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int) -> T {
    var value: T = 0
    for index in 0..<MemoryLayout<T>.size { value = value << 8 | T(bytes[offset + index]) }
    return value
}
