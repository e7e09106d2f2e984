/// The 48-byte NTP header (RFC 5905 §7.3), without a socket. Extension fields and a MAC after it are checked
/// for their lengths by ``init(parsing:)`` (RFC 7822), then skipped; they are never written.
public struct NTPPacket: Hashable, Sendable {
    /// The leap indicator: a leap second at the end of the day, or that the server is not synchronised.
    public enum Leap: UInt8, Hashable, Sendable, CustomStringConvertible {
        /// No leap second is due.
        case none = 0
        /// The last minute of this day (UTC) has 61 seconds.
        case add = 1
        /// The last minute of this day (UTC) has 59 seconds.
        case delete = 2
        /// The server's clock is not synchronised: its time is not to be used.
        case unsynchronised = 3

        public var description: String {
            switch self {
            case .none: "none"
            case .add: "add"
            case .delete: "delete"
            case .unsynchronised: "unsynchronised"
            }
        }
    }

    /// The association mode.
    public enum Mode: UInt8, Hashable, Sendable {
        /// 0: reserved, never sent.
        case reserved = 0
        /// 1: a peer offering to synchronise with another, each able to set the other's clock.
        case symmetricActive = 1
        /// 2: a peer answering a symmetric active one.
        case symmetricPassive = 2
        /// 3: a client's request, what ``SNTPRequest`` sends.
        case client = 3
        /// 4: a server's reply to a client, the only mode ``SNTPRequest/check(_:)`` accepts.
        case server = 4
        /// 5: a server's time sent unasked to a network's hosts.
        case broadcast = 5
        /// 6: an NTP control message (`ntpq`'s queries), which carries no time.
        case control = 6
        /// 7: private use (`ntpdc`'s queries, whose `monlist` served amplification attacks).
        case `private` = 7
    }

    /// The length of the header in bytes: what ``encoded`` writes and ``init(decoding:)`` needs at least.
    public static let size = 48

    /// A leap second due at the end of the day, or that the server is not synchronised.
    public var leap: Leap
    /// 1 to 4; SNTP clients send 4.
    public var version: UInt8
    /// What the packet is: a client's request, a server's reply, or another kind of association's message.
    public var mode: Mode
    /// 1 for a primary server (a reference clock), 2-15 for secondary ones, 16 unsynchronised, 0 a
    /// kiss-o'-death.
    public var stratum: UInt8
    /// The log₂ of the poll interval in seconds.
    public var poll: Int8
    /// The log₂ of the server clock's precision in seconds: -20 is about a microsecond.
    public var precision: Int8
    /// The round trip to the reference clock, in NTP short format (16.16 seconds).
    public var rootDelay: UInt32
    /// The error the server allows for against the reference clock, in NTP short format.
    public var rootDispersion: UInt32
    /// Four ASCII letters at stratum 1 (`GPS`, `PPS`), the upstream server's IPv4 address above, the kiss code
    /// at stratum 0.
    public var referenceID: UInt32
    /// When the server's clock was last set.
    public var referenceTimestamp: NTPTimestamp
    /// The client's transmit timestamp, echoed by the server (T1 as the client said it).
    public var originTimestamp: NTPTimestamp
    /// When the request reached the server (T2).
    public var receiveTimestamp: NTPTimestamp
    /// When the reply left the server (T3); in a request, whatever the client chose.
    public var transmitTimestamp: NTPTimestamp

    /// Creates a packet from its fields. Every field but `mode` defaults to what a client request carries:
    /// version 4, no leap second, and zero everywhere else.
    public init(
        leap: Leap = .none,
        version: UInt8 = 4,
        mode: Mode,
        stratum: UInt8 = 0,
        poll: Int8 = 0,
        precision: Int8 = 0,
        rootDelay: UInt32 = 0,
        rootDispersion: UInt32 = 0,
        referenceID: UInt32 = 0,
        referenceTimestamp: NTPTimestamp = .zero,
        originTimestamp: NTPTimestamp = .zero,
        receiveTimestamp: NTPTimestamp = .zero,
        transmitTimestamp: NTPTimestamp = .zero
    ) {
        self.leap = leap
        self.version = version
        self.mode = mode
        self.stratum = stratum
        self.poll = poll
        self.precision = precision
        self.rootDelay = rootDelay
        self.rootDispersion = rootDispersion
        self.referenceID = referenceID
        self.referenceTimestamp = referenceTimestamp
        self.originTimestamp = originTimestamp
        self.receiveTimestamp = receiveTimestamp
        self.transmitTimestamp = transmitTimestamp
    }

    /// Reads a packet; nil when ``init(parsing:)`` finds it malformed.
    public init?(decoding bytes: some Collection<UInt8>) {
        guard let packet = try? NTPPacket(parsing: bytes) else { return nil }
        self = packet
    }

    /// Reads the header from the first 48 bytes, after checking that what follows is whole extension fields
    /// and at most one MAC (``Layout``). Every bit pattern of the header is a packet: what the values mean is
    /// for ``SNTPRequest/check(_:)`` to judge.
    ///
    /// - Throws: ``Malformation`` when the datagram is not 48 bytes plus whole extension fields and a MAC.
    public init(parsing bytes: some Collection<UInt8>) throws(Malformation) {
        let all = Array(bytes)
        if let malformation = Layout.check(all) { throw malformation }
        let header = all[..<Self.size]
        func word(_ offset: Int) -> UInt32 {
            header[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
        func timestamp(_ offset: Int) -> NTPTimestamp {
            NTPTimestamp(rawValue: UInt64(word(offset)) << 32 | UInt64(word(offset + 4)))
        }
        leap = Leap(rawValue: header[0] >> 6)!
        version = header[0] >> 3 & 0x7
        mode = Mode(rawValue: header[0] & 0x7)!
        stratum = header[1]
        poll = Int8(bitPattern: header[2])
        precision = Int8(bitPattern: header[3])
        rootDelay = word(4)
        rootDispersion = word(8)
        referenceID = word(12)
        referenceTimestamp = timestamp(16)
        originTimestamp = timestamp(24)
        receiveTimestamp = timestamp(32)
        transmitTimestamp = timestamp(40)
    }

    /// The 48 bytes, in network order.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [
            leap.rawValue << 6 | (version & 0x7) << 3 | mode.rawValue, stratum, UInt8(bitPattern: poll),
            UInt8(bitPattern: precision),
        ]
        bytes.reserveCapacity(Self.size)
        func append(_ word: UInt32) {
            for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> shift)) }
        }
        for word in [rootDelay, rootDispersion, referenceID] { append(word) }
        for stamp in [referenceTimestamp, originTimestamp, receiveTimestamp, transmitTimestamp] {
            append(UInt32(stamp.rawValue >> 32))
            append(UInt32(truncatingIfNeeded: stamp.rawValue))
        }
        return bytes
    }

    /// ``rootDelay`` as a duration (the field counts 2⁻¹⁶ s).
    public var rootDelayDuration: Duration { Self.duration(shortFormat: rootDelay) }
    /// ``rootDispersion`` as a duration (the field counts 2⁻¹⁶ s).
    public var rootDispersionDuration: Duration { Self.duration(shortFormat: rootDispersion) }

    /// An NTP short-format value (16 bits of seconds, 16 of fraction) as a duration, exactly: 2⁻¹⁶ s is
    /// 15 258 789 062 500 attoseconds.
    private static func duration(shortFormat value: UInt32) -> Duration {
        Duration(secondsComponent: Int64(value >> 16), attosecondsComponent: Int64(value & 0xFFFF) * 15_258_789_062_500)
    }

    /// The reference ID as ntpq prints it: the four letters of a kiss code (stratum 0) or a reference clock
    /// (stratum 1), otherwise dotted like an IPv4 address (`127.127.1.1`; for an IPv6 upstream, a hash of it).
    public var referenceIDText: String {
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: referenceID >> (24 - 8 * $0)) }
        if stratum <= 1 {
            let letters = bytes.prefix { $0 != 0 }
            if letters.allSatisfy({ (0x21...0x7E).contains($0) }) { return String(decoding: letters, as: UTF8.self) }
        }
        return bytes.map(String.init).joined(separator: ".")
    }
}
