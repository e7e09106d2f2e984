import UDP

/// A resource record type number, with names for the ones this codec decodes.
///
/// Its text is the mnemonic (`MX`) for those, and RFC 3597's `TYPE65` for any other, so that a name printed
/// here never promises record data this codec cannot show; ``init(_:)`` reads either back.
public struct DNSRecordType: RawRepresentable, Hashable, Sendable, LosslessStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = DNSRecordType(rawValue: 1)
    public static let ns = DNSRecordType(rawValue: 2)
    public static let cname = DNSRecordType(rawValue: 5)
    public static let soa = DNSRecordType(rawValue: 6)
    public static let ptr = DNSRecordType(rawValue: 12)
    public static let mx = DNSRecordType(rawValue: 15)
    public static let txt = DNSRecordType(rawValue: 16)
    public static let aaaa = DNSRecordType(rawValue: 28)
    public static let srv = DNSRecordType(rawValue: 33)
    /// The EDNS(0) pseudo-record of the additional section (RFC 6891): its class and TTL carry the sender's UDP
    /// payload size and flags, not a class and a TTL. See ``EDNS``.
    public static let opt = DNSRecordType(rawValue: 41)
    public static let nsec = DNSRecordType(rawValue: 47)
    /// Any type, in a question (`*`).
    public static let any = DNSRecordType(rawValue: 255)

    /// The types with a mnemonic, in type-number order.
    static let named: [(DNSRecordType, String)] = [
        (.a, "A"), (.ns, "NS"), (.cname, "CNAME"), (.soa, "SOA"), (.ptr, "PTR"), (.mx, "MX"), (.txt, "TXT"),
        (.aaaa, "AAAA"), (.srv, "SRV"), (.opt, "OPT"), (.nsec, "NSEC"), (.any, "ANY"),
    ]

    /// The mnemonic (`AAAA`), or `TYPE` and the number for a type without one (`TYPE65`).
    public var description: String {
        Self.named.first { $0.0 == self }?.1 ?? "TYPE\(rawValue)"
    }

    /// A type from its text as dig takes it: a mnemonic in any case (`mx`), `TYPE` and a number (`TYPE65`,
    /// RFC 3597), or a bare number (`65`). Nil for anything else, or a number over 65535.
    public init?(_ text: String) {
        let upper = text.uppercased()
        if let named = Self.named.first(where: { $0.1 == upper }) {
            self = named.0
            return
        }
        let digits = upper.hasPrefix("TYPE") ? upper.dropFirst(4) : Substring(upper)
        guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let number = UInt16(digits)
        else { return nil }
        self.init(rawValue: number)
    }
}

/// What a record says, decoded for the types DNS-SD and a stub resolver use; any other type keeps its bytes.
public enum DNSRecordData: Hashable, Sendable {
    case a(IPv4Address)
    case aaaa(IPv6Address)
    /// An authoritative name server of the owner's zone.
    case ns(DNSName)
    /// The owner is an alias of this name (RFC 1035 §3.3.1).
    case cname(DNSName)
    /// The zone's start of authority: its primary server, its keeper, its timers (RFC 1035 §3.3.13).
    case soa(DNSStartOfAuthority)
    /// A pointer to another name: in DNS-SD, from a service type to an instance; in reverse lookups, from an
    /// address to its host name.
    case ptr(DNSName)
    /// A mail exchanger, lower preference first (RFC 1035 §3.3.9).
    case mx(preference: UInt16, exchange: DNSName)
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
        case .ns: .ns
        case .cname: .cname
        case .soa: .soa
        case .ptr: .ptr
        case .mx: .mx
        case .srv: .srv
        case .txt: .txt
        case .nsec: .nsec
        case .unknown(let type, _): type
        }
    }
}

/// The data of an SOA record (RFC 1035 §3.3.13): the zone's primary server and the mailbox of its keeper (as a
/// name: `hostmaster.example.test` for hostmaster@example.test), the zone's serial number, and its timers in
/// seconds; `minimum` is the TTL of negative answers (RFC 2308 §4).
public struct DNSStartOfAuthority: Hashable, Sendable {
    public var primaryServer: DNSName
    public var mailbox: DNSName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32

    public init(
        primaryServer: DNSName,
        mailbox: DNSName,
        serial: UInt32,
        refresh: UInt32,
        retry: UInt32,
        expire: UInt32,
        minimum: UInt32
    ) {
        self.primaryServer = primaryServer
        self.mailbox = mailbox
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
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
