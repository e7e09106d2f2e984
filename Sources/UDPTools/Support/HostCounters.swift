import UDP

/// The host's UDP counters, as `netstat -su` shows them: what the kernel received, dropped and sent for
/// every UDP socket of this network namespace (Linux `/proc/net/snmp` and `/proc/net/snmp6`).
///
/// `RcvbufErrors` is the one to watch: datagrams dropped because a socket's receive queue was full (raise
/// `SO_RCVBUF`, or read faster). `NoPorts` counts datagrams for ports nobody listens on.
public struct HostUDPCounters: Sendable, Equatable {
    /// One family's counters, named as the kernel names them.
    public struct Counters: Sendable, Equatable {
        /// `InDatagrams`: datagrams delivered to a socket's receive queue.
        public var inDatagrams: UInt64 = 0
        /// `NoPorts`: unicast datagrams for a port no socket is bound to (each answered by an ICMP port
        /// unreachable, unless rate-limited).
        public var noPorts: UInt64 = 0
        /// `InErrors`: datagrams received and not delivered, for any reason: a bad checksum, a full receive
        /// queue, memory (so it includes ``receiveBufferErrors``, ``checksumErrors`` and ``memoryErrors``).
        public var inErrors: UInt64 = 0
        /// `OutDatagrams`: datagrams sent.
        public var outDatagrams: UInt64 = 0
        /// `RcvbufErrors`: datagrams dropped because their socket's receive queue was full (`SO_RCVBUF`).
        public var receiveBufferErrors: UInt64 = 0
        /// `SndbufErrors`: datagrams not sent for lack of buffer space (`ENOBUFS`: a full send buffer or
        /// device queue).
        public var sendBufferErrors: UInt64 = 0
        /// `InCsumErrors`: datagrams dropped because their UDP checksum was wrong.
        public var checksumErrors: UInt64 = 0
        /// `IgnoredMulti`: multicast and broadcast datagrams that no socket wanted.
        public var ignoredMulticast: UInt64 = 0
        /// `MemErrors`: datagrams dropped because UDP's memory for the whole host (`net.ipv4.udp_mem`) was
        /// used up.
        public var memoryErrors: UInt64 = 0

        /// All counters zero.
        public init() {}

        /// The counters in the kernel's order, with the kernel's names.
        public var named: [(name: String, value: UInt64)] {
            [
                ("InDatagrams", inDatagrams), ("NoPorts", noPorts), ("InErrors", inErrors),
                ("OutDatagrams", outDatagrams), ("RcvbufErrors", receiveBufferErrors),
                ("SndbufErrors", sendBufferErrors), ("InCsumErrors", checksumErrors),
                ("IgnoredMulti", ignoredMulticast), ("MemErrors", memoryErrors),
            ]
        }

        /// Sets the counter the kernel calls `name`; unknown names (newer kernels add some) are ignored.
        public mutating func set(_ name: Substring, _ value: UInt64) {
            switch name {
            case "InDatagrams": inDatagrams = value
            case "NoPorts": noPorts = value
            case "InErrors": inErrors = value
            case "OutDatagrams": outDatagrams = value
            case "RcvbufErrors": receiveBufferErrors = value
            case "SndbufErrors": sendBufferErrors = value
            case "InCsumErrors": checksumErrors = value
            case "IgnoredMulti": ignoredMulticast = value
            case "MemErrors": memoryErrors = value
            default: break
            }
        }
    }

    /// UDP over IPv4.
    public var ipv4 = Counters()
    /// UDP over IPv6 (absent when the kernel has no IPv6).
    public var ipv6: Counters?

    /// Counters given rather than read (for tests, or a difference between two readings).
    ///
    /// - Parameters:
    ///   - ipv4: UDP over IPv4.
    ///   - ipv6: UDP over IPv6; nil when the kernel has none.
    public init(ipv4: Counters = Counters(), ipv6: Counters? = nil) {
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }

    /// Reads the counters now.
    ///
    /// - Throws: `HostCountersError` where `/proc/net/snmp` cannot be read (not Linux, or no procfs).
    public static func read() throws(HostCountersError) -> HostUDPCounters {
        guard let snmp = readFile("/proc/net/snmp") else { throw HostCountersError(path: "/proc/net/snmp") }
        var counters = HostUDPCounters(ipv4: parseSNMP(snmp))
        if let snmp6 = readFile("/proc/net/snmp6") { counters.ipv6 = parseSNMP6(snmp6) }
        return counters
    }

    /// Parses the two `Udp:` lines of `/proc/net/snmp`: names, then values.
    public static func parseSNMP(_ text: String) -> Counters {
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("Udp:") }
        var counters = Counters()
        guard lines.count >= 2 else { return counters }
        let names = lines[0].split(separator: " ").dropFirst()
        let values = lines[1].split(separator: " ").dropFirst()
        for (name, value) in zip(names, values) { counters.set(name, UInt64(value) ?? 0) }
        return counters
    }

    /// Parses the `Udp6…` lines of `/proc/net/snmp6`: one name and value a line.
    public static func parseSNMP6(_ text: String) -> Counters {
        var counters = Counters()
        for line in text.split(separator: "\n") where line.hasPrefix("Udp6") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 2 else { continue }
            counters.set(fields[0].dropFirst("Udp6".count), UInt64(fields[1]) ?? 0)
        }
        return counters
    }

    /// The file's text, or nil when it cannot be read (no procfs).
    private static func readFile(_ path: String) -> String? {
        guard let bytes = try? FileIO.readAll(path: path) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The host's counters could not be read.
public struct HostCountersError: Error, CustomStringConvertible {
    /// The file that could not be read: `/proc/net/snmp`.
    public var path: String
    /// `cannot read /proc/net/snmp: the host's UDP counters need Linux's /proc`.
    public var description: String { "cannot read \(path): the host's UDP counters need Linux's /proc" }
}
