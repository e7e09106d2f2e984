/// A DNS message (RFC 1035 §4): a header, then questions, answers, authority and additional records.
///
/// The codec is sans-I/O and free of any one protocol's rules: a unicast DNS client and an mDNS responder both
/// build on it. ``init(decoding:)`` checks every bound (compression pointers, label and name lengths, counts,
/// record data lengths) and throws ``DNSError`` for anything malformed; ``encoded()`` compresses names.
///
/// ```swift
/// let query = DNSMessage(id: 0, questions: [DNSQuestion(name: DNSName("_services._dns-sd._udp.local")!, type: .ptr)])
/// let bytes = try query.encoded()
/// let reply = try DNSMessage(decoding: received)
/// for record in reply.answers { print(record.name, record.data) }
/// ```
public struct DNSMessage: Hashable, Sendable {
    /// Class IN, the only one in use.
    public static let classInternet: UInt16 = 1

    /// Matches a reply to its query (0 in mDNS).
    public var id: UInt16
    /// The header's flags word: QR, opcode, AA, TC, RD, RA, Z, AD, CD and the response code (RFC 1035 §4.1.1).
    public var flags: UInt16
    /// The question section: what a query asks, and what a reply says it answers (a unicast query asks one
    /// question; an mDNS query may ask several, RFC 6762 §5.3).
    public var questions: [DNSQuestion]
    /// The answer section: the records that answer the questions. In an mDNS query it lists the answers the
    /// querier already knows, so responders need not send them again (RFC 6762 §7.1).
    public var answers: [DNSRecord]
    /// The authority section: in unicast DNS the zone's NS records, or its SOA with a negative answer
    /// (RFC 2308 §2); in an mDNS probe, the records the prober proposes to own (RFC 6762 §8.2).
    public var authorities: [DNSRecord]
    /// The additional section: records the sender expects to be wanted next (the addresses of names in the
    /// answers; in DNS-SD an instance's SRV, TXT and addresses, RFC 6763 §12), and the EDNS OPT pseudo-record
    /// (see ``edns``).
    public var additionals: [DNSRecord]

    /// A message from its parts. With every default it is a query with id 0 and no flags, as mDNS sends one;
    /// ``query(id:question:recursionDesired:edns:)`` builds what a unicast stub resolver sends.
    ///
    /// - Parameters:
    ///   - id: Matches a reply to its query; 0 in mDNS (RFC 6762 §18.1).
    ///   - flags: The header's flags word (RFC 1035 §4.1.1); the properties such as ``isResponse`` and
    ///     ``recursionDesired`` set its bits one at a time.
    ///   - questions: The question section.
    ///   - answers: The answer section.
    ///   - authorities: The authority section.
    ///   - additionals: The additional section, with the OPT record if the message carries EDNS.
    public init(
        id: UInt16 = 0,
        flags: UInt16 = 0,
        questions: [DNSQuestion] = [],
        answers: [DNSRecord] = [],
        authorities: [DNSRecord] = [],
        additionals: [DNSRecord] = []
    ) {
        self.id = id
        self.flags = flags
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
    }

    /// QR: a response rather than a query.
    public var isResponse: Bool {
        get { flag(0x8000) }
        set { setFlag(0x8000, newValue) }
    }
    /// AA: the answer comes from an authority for the name (every mDNS response sets it).
    public var isAuthoritative: Bool {
        get { flag(0x0400) }
        set { setFlag(0x0400, newValue) }
    }
    /// TC: the message was truncated (unicast DNS: ask again over TCP; mDNS: more known answers follow).
    public var isTruncated: Bool {
        get { flag(0x0200) }
        set { setFlag(0x0200, newValue) }
    }
    /// RD: the client asks the server to recurse.
    public var recursionDesired: Bool {
        get { flag(0x0100) }
        set { setFlag(0x0100, newValue) }
    }
    /// RA: the server offers recursion.
    public var recursionAvailable: Bool {
        get { flag(0x0080) }
        set { setFlag(0x0080, newValue) }
    }
    /// AD: the server checked the answer's DNSSEC signatures (RFC 4035 §3.2.3).
    public var authenticData: Bool {
        get { flag(0x0020) }
        set { setFlag(0x0020, newValue) }
    }
    /// CD: the client asks the server not to check DNSSEC signatures (RFC 4035 §3.2.2).
    public var checkingDisabled: Bool {
        get { flag(0x0010) }
        set { setFlag(0x0010, newValue) }
    }
    private func flag(_ bit: UInt16) -> Bool { flags & bit != 0 }
    private mutating func setFlag(_ bit: UInt16, _ on: Bool) { flags = on ? flags | bit : flags & ~bit }

    /// The operation (0, a standard query).
    public var opcode: UInt8 { UInt8(flags >> 11 & 0xF) }
    /// The response code (0 no error, 2 server failure, 3 no such name…).
    public var responseCode: UInt8 { UInt8(flags & 0xF) }
}
