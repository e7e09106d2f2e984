import UDP
import UDPDNS

/// What makes two records the same record (RFC 6762 §10.2): name, type, class and data; not the TTL.
///
/// A key is hashed and compared through one byte string made when it is made: its type, class, owner name and
/// data, names folded to lower case as DNS compares them (`Identity`). A cache does several look-ups a record,
/// and hashing a `DNSName` folds every label again each time; through that string a look-up costs one hash of
/// an `Int` and, when it finds the key, one comparison of bytes (measured in a debug build: a look-up went from
/// 15 µs to under 1).
public struct RecordKey: Hashable, Sendable {
    /// The owner name (compared ignoring ASCII case, as `DNSName` compares).
    public var name: DNSName { didSet { identify() } }
    /// The record type.
    public var type: DNSRecordType { didSet { identify() } }
    /// The class, without the cache-flush bit.
    public var rawClass: UInt16 { didSet { identify() } }
    /// The record data.
    public var data: DNSRecordData { didSet { identify() } }
    /// The key as bytes, for hashing and comparing.
    private var identity = Identity()
    /// The key of the record set this record belongs to (its name, type and class).
    private(set) var set = RRSetKey(identity: Identity())

    /// The identity of `record`: its TTL left out, the cache-flush bit cleared from its class.
    ///
    /// - Parameter record: A record as heard or as published.
    public init(_ record: DNSRecord) {
        name = record.name
        type = record.type
        rawClass = record.rawClass & 0x7FFF
        data = record.data
        identify()
    }

    private mutating func identify() {
        var bytes = Identity.prefix(name: name, type: type, rawClass: rawClass)
        set = RRSetKey(identity: Identity(bytes))
        Identity.append(data, to: &bytes)
        identity = Identity(bytes)
    }

    public static func == (lhs: RecordKey, rhs: RecordKey) -> Bool { lhs.identity == rhs.identity }

    public func hash(into hasher: inout Hasher) { hasher.combine(identity.hash) }
}

/// A resource record set: the records of one name, type and class, hashed and compared as `RecordKey` is.
struct RRSetKey: Hashable, Sendable {
    fileprivate var identity: Identity

    fileprivate init(identity: Identity) { self.identity = identity }

    init(name: DNSName, type: DNSRecordType, rawClass: UInt16) {
        identity = Identity(Identity.prefix(name: name, type: type, rawClass: rawClass))
    }

    static func == (lhs: RRSetKey, rhs: RRSetKey) -> Bool { lhs.identity == rhs.identity }

    func hash(into hasher: inout Hasher) { hasher.combine(identity.hash) }
}

/// A name hashed and compared as `RecordKey` is, through its folded wire form made once, for the tables that
/// ``DNSSDBrowser`` looks names up in several times a record.
struct NameKey: Hashable, Sendable {
    /// The name, as given.
    let name: DNSName
    fileprivate let identity: Identity

    init(_ name: DNSName) {
        self.name = name
        var bytes: [UInt8] = []
        bytes.reserveCapacity(name.wireLength)
        Identity.append(name, to: &bytes)
        identity = Identity(bytes)
    }

    static func == (lhs: NameKey, rhs: NameKey) -> Bool { lhs.identity == rhs.identity }

    func hash(into hasher: inout Hasher) { hasher.combine(identity.hash) }
}

/// A key as bytes that differ exactly when the keys differ, and their hash, made once.
///
/// The bytes are the type, the class, then the owner name as on the wire (uncompressed, each label after its
/// length, ASCII folded to lower case), then a tag for the data's kind and the data, every variable-length
/// part after its length: so no two different keys give the same bytes.
private struct Identity: Hashable, Sendable {
    var bytes: [UInt8] = []
    var hash = 0

    init() {}

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var hasher = Hasher()
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        hash = hasher.finalize()
    }

    static func == (lhs: Identity, rhs: Identity) -> Bool {
        guard lhs.hash == rhs.hash, lhs.bytes.count == rhs.bytes.count else { return false }
        return lhs.bytes.withUnsafeBytes { left in
            rhs.bytes.withUnsafeBytes { right in
                // Eight bytes a step: in a debug build the loop, not the bytes, is what costs.
                var index = 0
                while index + 8 <= left.count {
                    if left.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                        != right.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    {
                        return false
                    }
                    index += 8
                }
                while index < left.count {
                    if left[index] != right[index] { return false }
                    index += 1
                }
                return true
            }
        }
    }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }

    /// The type, the class and the folded owner name: a record set's identity, and the start of each of its
    /// records'.
    static func prefix(name: DNSName, type: DNSRecordType, rawClass: UInt16) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 + name.wireLength + 32)
        append(type.rawValue, to: &bytes)
        append(rawClass, to: &bytes)
        append(name, to: &bytes)
        return bytes
    }

    static func append(_ data: DNSRecordData, to bytes: inout [UInt8]) {
        switch data {
        case .a(let address):
            bytes.append(1)
            append(address.value, to: &bytes)
        case .aaaa(let address):
            bytes.append(2)
            append(address.high, to: &bytes)
            append(address.low, to: &bytes)
        case .ns(let name):
            bytes.append(3)
            append(name, to: &bytes)
        case .cname(let name):
            bytes.append(4)
            append(name, to: &bytes)
        case .soa(let soa):
            bytes.append(5)
            append(soa.primaryServer, to: &bytes)
            append(soa.mailbox, to: &bytes)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { append(value, to: &bytes) }
        case .ptr(let name):
            bytes.append(6)
            append(name, to: &bytes)
        case .mx(let preference, let exchange):
            bytes.append(7)
            append(preference, to: &bytes)
            append(exchange, to: &bytes)
        case .srv(let priority, let weight, let port, let target):
            bytes.append(8)
            append(priority, to: &bytes)
            append(weight, to: &bytes)
            append(port, to: &bytes)
            append(target, to: &bytes)
        case .txt(let strings):
            bytes.append(9)
            append(UInt32(truncatingIfNeeded: strings.count), to: &bytes)
            for string in strings {
                append(UInt32(truncatingIfNeeded: string.count), to: &bytes)
                bytes += string
            }
        case .nsec(let next, let types):
            bytes.append(10)
            append(next, to: &bytes)
            append(UInt32(truncatingIfNeeded: types.count), to: &bytes)
            for type in types { append(type.rawValue, to: &bytes) }
        case .unknown(let type, let data):
            bytes.append(11)
            append(type.rawValue, to: &bytes)
            append(UInt32(truncatingIfNeeded: data.count), to: &bytes)
            bytes += data
        }
    }

    /// A name as on the wire, uncompressed, ASCII folded to lower case: self-delimiting, as it ends in the root's
    /// zero and no label is empty.
    static func append(_ name: DNSName, to bytes: inout [UInt8]) {
        let start = bytes.count
        for label in name.labels {
            bytes.append(UInt8(truncatingIfNeeded: label.count))
            bytes += label
        }
        bytes.append(0)
        // Length bytes are at most 63, below "A", so folding the whole name leaves them as they are.
        bytes.withUnsafeMutableBytes { foldASCII(UnsafeMutableRawBufferPointer(rebasing: $0[start...])) }
    }

    /// Folds ASCII upper case to lower case in place, eight bytes a step (SWAR): a byte-by-byte loop was most of
    /// what making a key cost in a debug build.
    static func foldASCII(_ buffer: UnsafeMutableRawBufferPointer) {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var index = 0
        while index + 8 <= buffer.count {
            let word = buffer.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let low7 = word & ~highs
            // A byte's high bit set here when its low seven bits are at least "A" (0x41), then when above "Z".
            let atLeastA = low7 &+ ones &* (0x80 - 0x41)
            let aboveZ = low7 &+ ones &* (0x80 - 0x5B)
            let upper = atLeastA & ~aboveZ & ~word & highs
            buffer.storeBytes(of: word | (upper >> 2), toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < buffer.count {
            let byte = buffer[index]
            if byte &- UInt8(ascii: "A") < 26 { buffer[index] = byte | 0x20 }
            index += 1
        }
    }

    static func append<Value: FixedWidthInteger>(_ value: Value, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }
}
