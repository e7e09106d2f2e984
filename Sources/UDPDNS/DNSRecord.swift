import UDP

/// A resource record type number, with names for the ones this codec decodes.
///
/// Its text is the mnemonic (`MX`) for those, and RFC 3597's `TYPE65` for any other, so that a name printed
/// here never promises record data this codec cannot show; ``init(_:)`` reads either back.
public struct DNSRecordType: RawRepresentable, Hashable, Sendable, LosslessStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// A (1): an IPv4 address of the name (RFC 1035 §3.4.1).
    public static let a = DNSRecordType(rawValue: 1)
    /// NS (2): an authoritative name server of the zone (RFC 1035 §3.3.11).
    public static let ns = DNSRecordType(rawValue: 2)
    /// CNAME (5): the name is an alias of another (RFC 1035 §3.3.1).
    public static let cname = DNSRecordType(rawValue: 5)
    /// SOA (6): the start of a zone's authority, also sent with a negative answer (RFC 1035 §3.3.13).
    public static let soa = DNSRecordType(rawValue: 6)
    /// PTR (12): a pointer to another name (RFC 1035 §3.3.12): reverse lookups, and DNS-SD's link from a service
    /// type to its instances (RFC 6763 §4).
    public static let ptr = DNSRecordType(rawValue: 12)
    /// MX (15): a mail exchanger of the name (RFC 1035 §3.3.9).
    public static let mx = DNSRecordType(rawValue: 15)
    /// TXT (16): strings of up to 255 bytes (RFC 1035 §3.3.14); DNS-SD's `key=value` attributes (RFC 6763 §6).
    public static let txt = DNSRecordType(rawValue: 16)
    /// AAAA (28): an IPv6 address of the name (RFC 3596 §2.1).
    public static let aaaa = DNSRecordType(rawValue: 28)
    /// SRV (33): the host and port of a service (RFC 2782); DNS-SD's record of where an instance runs.
    public static let srv = DNSRecordType(rawValue: 33)
    /// The EDNS(0) pseudo-record of the additional section (RFC 6891): its class and TTL carry the sender's UDP
    /// payload size and flags, not a class and a TTL. See ``EDNS``.
    public static let opt = DNSRecordType(rawValue: 41)
    /// NSEC (47): the types that exist at a name (RFC 4034 §4); mDNS sends it to say a name has no records of
    /// the other types (RFC 6762 §6.1).
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
    /// An IPv4 address (RFC 1035 §3.4.1).
    case a(IPv4Address)
    /// An IPv6 address (RFC 3596 §2.2).
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
    /// MNAME: the zone's primary name server.
    public var primaryServer: DNSName
    /// RNAME: the mailbox of the zone's keeper, written as a name (its first label is the part before `@`).
    public var mailbox: DNSName
    /// SERIAL: the zone's version, which secondaries compare (RFC 1982 serial-number arithmetic) to know
    /// when to transfer it again.
    public var serial: UInt32
    /// REFRESH: seconds a secondary waits before checking ``serial`` again.
    public var refresh: UInt32
    /// RETRY: seconds a secondary waits before trying again after a failed refresh.
    public var retry: UInt32
    /// EXPIRE: seconds after which a secondary that cannot refresh stops answering for the zone.
    public var expire: UInt32
    /// MINIMUM: the TTL, in seconds, of negative answers from the zone (RFC 2308 §4).
    public var minimum: UInt32

    /// SOA data from its seven fields, in their wire order.
    ///
    /// - Parameters:
    ///   - primaryServer: MNAME, the zone's primary name server.
    ///   - mailbox: RNAME, the keeper's mailbox as a name (`hostmaster.example.test`).
    ///   - serial: SERIAL, the zone's version.
    ///   - refresh: REFRESH, in seconds.
    ///   - retry: RETRY, in seconds.
    ///   - expire: EXPIRE, in seconds.
    ///   - minimum: MINIMUM, the TTL of negative answers, in seconds.
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
    /// The owner name: the name the record is about.
    public var name: DNSName
    /// The class as on the wire, 1 (IN) in practice. mDNS uses its top bit as the cache-flush flag
    /// (RFC 6762 §10.2); the codec leaves that to it.
    public var rawClass: UInt16
    /// Seconds it may be cached; 0 in mDNS is a goodbye.
    public var ttl: UInt32
    /// What the record says; its case decides the record's ``type``.
    public var data: DNSRecordData

    /// A record from its fields; the type comes from `data`.
    ///
    /// - Parameters:
    ///   - name: The owner name.
    ///   - rawClass: The class as on the wire: IN by default; in mDNS, `0x8001` for IN with the cache-flush bit
    ///     (RFC 6762 §10.2).
    ///   - ttl: Seconds the record may be cached; 0 in mDNS says goodbye (RFC 6762 §10.1).
    ///   - data: The record data.
    public init(name: DNSName, rawClass: UInt16 = DNSMessage.classInternet, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.rawClass = rawClass
        self.ttl = ttl
        self.data = data
    }

    /// The record type, as its ``data`` says: the case's type, or the one that
    /// ``DNSRecordData/unknown(type:bytes:)`` carries.
    public var type: DNSRecordType { data.type }
}

/// A question: which records of `name` are wanted.
public struct DNSQuestion: Hashable, Sendable {
    /// The name asked about.
    public var name: DNSName
    /// The type of record wanted; ``DNSRecordType/any`` asks for every type the responder holds.
    public var type: DNSRecordType
    /// The class as on the wire; mDNS uses its top bit to ask for a unicast response (RFC 6762 §5.4).
    public var rawClass: UInt16

    /// A question for the records of `type` at `name`.
    ///
    /// - Parameters:
    ///   - name: The name asked about.
    ///   - type: The type of record wanted.
    ///   - rawClass: The class as on the wire: IN by default; in mDNS, `0x8001` asks for a unicast response
    ///     (the QU bit, RFC 6762 §5.4).
    public init(name: DNSName, type: DNSRecordType, rawClass: UInt16 = DNSMessage.classInternet) {
        self.name = name
        self.type = type
        self.rawClass = rawClass
    }
}
