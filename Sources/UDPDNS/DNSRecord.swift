import UDP

/// A resource record type number, with names for the ones this codec decodes.
public struct DNSRecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = DNSRecordType(rawValue: 1)
    public static let ptr = DNSRecordType(rawValue: 12)
    public static let txt = DNSRecordType(rawValue: 16)
    public static let aaaa = DNSRecordType(rawValue: 28)
    public static let srv = DNSRecordType(rawValue: 33)
    public static let nsec = DNSRecordType(rawValue: 47)
    /// Any type, in a question (`*`).
    public static let any = DNSRecordType(rawValue: 255)

    public var description: String {
        switch self {
        case .a: "A"
        case .ptr: "PTR"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        case .srv: "SRV"
        case .nsec: "NSEC"
        case .any: "ANY"
        default: "TYPE\(rawValue)"
        }
    }
}

/// What a record says, decoded for the types DNS-SD uses; any other type keeps its bytes.
public enum DNSRecordData: Hashable, Sendable {
    case a(IPv4Address)
    case aaaa(IPv6Address)
    /// A pointer to another name: in DNS-SD, from a service type to an instance.
    case ptr(DNSName)
    /// Where a service instance runs (RFC 2782).
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    /// Strings of up to 255 bytes each; DNS-SD puts `key=value` pairs in them (RFC 6763 §6).
    case txt([[UInt8]])
    /// The types that exist for `next` … (in mDNS: for this name), as a negative answer (RFC 4034 §4).
    case nsec(next: DNSName, types: [DNSRecordType])
    /// A type this codec does not decode, as its raw bytes (names inside stay compressed: RFC 3597).
    case unknown(type: DNSRecordType, bytes: [UInt8])

    /// The record type this data belongs to.
    public var type: DNSRecordType {
        switch self {
        case .a: .a
        case .aaaa: .aaaa
        case .ptr: .ptr
        case .srv: .srv
        case .txt: .txt
        case .nsec: .nsec
        case .unknown(let type, _): type
        }
    }
}

/// One resource record: a name, its class, how long it may be cached, and its data.
public struct DNSRecord: Hashable, Sendable {
    public var name: DNSName
    /// The class as on the wire, 1 (IN) in practice. mDNS uses its top bit as the cache-flush flag
    /// (RFC 6762 §10.2); the codec leaves that to it.
    public var rawClass: UInt16
    /// Seconds it may be cached; 0 in mDNS is a goodbye.
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: DNSName, rawClass: UInt16 = DNSMessage.classInternet, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.rawClass = rawClass
        self.ttl = ttl
        self.data = data
    }

    public var type: DNSRecordType { data.type }
}

/// A question: which records of `name` are wanted.
public struct DNSQuestion: Hashable, Sendable {
    public var name: DNSName
    public var type: DNSRecordType
    /// The class as on the wire; mDNS uses its top bit to ask for a unicast response (RFC 6762 §5.4).
    public var rawClass: UInt16

    public init(name: DNSName, type: DNSRecordType, rawClass: UInt16 = DNSMessage.classInternet) {
        self.name = name
        self.type = type
        self.rawClass = rawClass
    }
}
