/// EDNS(0) (RFC 6891): what a message's OPT pseudo-record says. Its class is the largest UDP payload the sender
/// can take, its TTL holds the upper 8 bits of the response code, the version and the DO flag, and its data
/// is a list of options (a cookie, an extended error…).
///
/// ```swift
/// var query = DNSMessage(id: id, questions: [question])
/// query.additionals.append(EDNS(udpPayloadSize: 1232).record)
/// let edns = try reply.edns    // nil when the server sent no OPT record
/// ```
public struct EDNS: Hashable, Sendable {
    /// One option of the OPT record's data: a code and its bytes.
    public struct Option: Hashable, Sendable {
        /// The option's code (10 a cookie, 15 an extended DNS error: RFC 7873, RFC 8914).
        public var code: UInt16
        /// The option's value, as the RFC that defines its code lays it out. The OPT record's data (every option
        /// with its 4-byte header) holds at most 65535 bytes, or ``DNSMessage/encoded()`` throws.
        public var data: [UInt8]

        /// An option from its code and value.
        ///
        /// - Parameters:
        ///   - code: The option code (``cookieCode``, ``extendedErrorCode``, ``nameServerIdentifierCode``…).
        ///   - data: The option's value; empty for an option a query carries only to ask for it (NSID,
        ///     RFC 5001 §2.1).
        public init(code: UInt16, data: [UInt8]) {
            self.code = code
            self.data = data
        }

        /// An extended DNS error (RFC 8914).
        public static let extendedErrorCode: UInt16 = 15
        /// A DNS cookie (RFC 7873).
        public static let cookieCode: UInt16 = 10
        /// The name server's identifier (RFC 5001).
        public static let nameServerIdentifierCode: UInt16 = 3
    }

    /// The largest UDP payload the sender can receive. RFC 6891 §6.2.5 treats values below 512 as 512.
    public var udpPayloadSize: UInt16
    /// The upper 8 bits of the 12-bit response code; the header holds the lower 4.
    public var extendedResponseCode: UInt8
    /// The EDNS version (0).
    public var version: UInt8
    /// DO: the sender wants DNSSEC records (RFC 3225).
    public var dnssecOK: Bool
    /// The other 15 flag bits, zero unless a later RFC defines them.
    public var otherFlags: UInt16
    /// The options of the OPT record's data, in the order they appear (RFC 6891 §6.1.2).
    public var options: [Option]

    /// The payload size DNS Flag Day 2020 recommends: it fits a 1280-byte IPv6 minimum MTU with its headers,
    /// so no reply needs fragmenting.
    public static let recommendedPayloadSize: UInt16 = 1232

    /// EDNS information to send; ``record`` turns it into the OPT record for a message's additional section.
    ///
    /// - Parameters:
    ///   - udpPayloadSize: The largest UDP payload this side can receive, ``recommendedPayloadSize`` by default.
    ///   - extendedResponseCode: The upper 8 bits of the response code; 0 in a query.
    ///   - version: The EDNS version; 0, the only one defined.
    ///   - dnssecOK: The DO bit: ask for DNSSEC records (RFC 3225).
    ///   - otherFlags: The flag bits other than DO; only the low 15 are kept, since the top bit is DO.
    ///   - options: The options to carry.
    public init(
        udpPayloadSize: UInt16 = EDNS.recommendedPayloadSize,
        extendedResponseCode: UInt8 = 0,
        version: UInt8 = 0,
        dnssecOK: Bool = false,
        otherFlags: UInt16 = 0,
        options: [Option] = []
    ) {
        self.udpPayloadSize = udpPayloadSize
        self.extendedResponseCode = extendedResponseCode
        self.version = version
        self.dnssecOK = dnssecOK
        self.otherFlags = otherFlags & 0x7FFF
        self.options = options
    }

    /// Reads an OPT record.
    ///
    /// - Throws: ``DNSError/badRecordData(type:at:)`` when it is not an OPT record of the root, or when its
    ///   options do not fill its data exactly (the offset is within the data).
    public init(_ record: DNSRecord) throws(DNSError) {
        guard record.name == .root, case .unknown(.opt, let bytes) = record.data else {
            throw .badRecordData(type: record.type.rawValue, at: 0)
        }
        var options: [Option] = []
        var reader = DNSReader(bytes)
        while reader.position < bytes.count {
            let start = reader.position
            do throws(DNSError) {
                let code = try reader.uint16()
                let length = Int(try reader.uint16())
                options.append(Option(code: code, data: Array(try reader.take(length))))
            } catch {
                throw .badRecordData(type: DNSRecordType.opt.rawValue, at: start)
            }
        }
        self.init(
            udpPayloadSize: record.rawClass,
            extendedResponseCode: UInt8(record.ttl >> 24),
            version: UInt8(record.ttl >> 16 & 0xFF),
            dnssecOK: record.ttl & 0x8000 != 0,
            otherFlags: UInt16(record.ttl & 0x7FFF),
            options: options
        )
    }

    /// The OPT record that says this, for a message's additional section.
    public var record: DNSRecord {
        var data: [UInt8] = []
        for option in options {
            data += [UInt8(option.code >> 8), UInt8(option.code & 0xFF)]
            data += [UInt8(option.data.count >> 8 & 0xFF), UInt8(option.data.count & 0xFF)]
            data += option.data
        }
        let flags = UInt32(dnssecOK ? 0x8000 : 0) | UInt32(otherFlags)
        return DNSRecord(
            name: .root,
            rawClass: udpPayloadSize,
            ttl: UInt32(extendedResponseCode) << 24 | UInt32(version) << 16 | flags,
            data: .unknown(type: .opt, bytes: data)
        )
    }
}

extension DNSMessage {
    /// The message's EDNS(0) information, from its OPT record; nil when it has none.
    ///
    /// - Throws: ``DNSError/badRecordData(type:at:)`` for more than one OPT record, one outside the
    ///   additional section or not owned by the root, or one whose options are malformed: RFC 6891 §6.1.1
    ///   makes each of these a malformed message.
    public var edns: EDNS? {
        get throws(DNSError) {
            let opt = DNSRecordType.opt
            guard !answers.contains(where: { $0.type == opt }), !authorities.contains(where: { $0.type == opt })
            else { throw .badRecordData(type: opt.rawValue, at: 0) }
            let records = additionals.filter { $0.type == opt }
            guard records.count <= 1 else { throw .badRecordData(type: opt.rawValue, at: 0) }
            return try records.first.map { record throws(DNSError) in try EDNS(record) }
        }
    }
}
