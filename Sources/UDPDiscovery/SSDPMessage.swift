import UDP

/// An SSDP message (UPnP Device Architecture 1.1 §1): HTTP over UDP, without a socket.
///
/// - `M-SEARCH * HTTP/1.1` asks who has a search target (`ST`), answering within `MX` seconds;
/// - `HTTP/1.1 200 OK` answers a search, with `ST`, `USN`, `LOCATION`, `SERVER` and `CACHE-CONTROL: max-age`;
/// - `NOTIFY * HTTP/1.1` announces (`NTS: ssdp:alive`) or withdraws (`ssdp:byebye`) a device or service.
///
/// ``init(parsing:)`` accepts what devices send in practice (header names in any case, spaces around values,
/// `\n` without `\r`) and refuses anything else with ``SSDPError``: a datagram from the link is untrusted, and
/// parsing it bounds every line and the number of headers.
public enum SSDPMessage: Hashable, Sendable {
    /// An `M-SEARCH`: a control point asks who has a search target (§1.3.2).
    case search(SSDPSearch)
    /// An `HTTP/1.1 200 OK`: a device answers a search, by unicast to the searcher (§1.3.3).
    case response(SSDPAdvertisement)
    /// A `NOTIFY` to the group: a device announces, withdraws or updates an advertisement (§1.2).
    case notify(SSDPAdvertisement, SSDPNotification)

    /// The most header lines a message may have.
    public static let maximumHeaders = 64
    /// The most bytes a line may have.
    public static let maximumLineLength = 2_048
}

/// An `M-SEARCH`: what is sought, and how long responders may wait before answering.
public struct SSDPSearch: Hashable, Sendable {
    /// The search target: `ssdp:all`, `upnp:rootdevice`, `uuid:…`, or a device or service type URN.
    public var target: String
    /// The most seconds a responder waits, at random, before answering (1-5 by the specification).
    public var maximumWait: Int
    /// `HOST`, normally `239.255.255.250:1900` or `[FF02::C]:1900`.
    public var host: String

    /// A search to send.
    ///
    /// - Parameters:
    ///   - target: `ST`: what is sought; every device and service by default.
    ///   - maximumWait: `MX`, in seconds: 1 to 5 by the specification.
    ///   - host: `HOST`: the group and port the search goes to; ``SSDPMessage/groupHost(_:)`` gives the one
    ///     for each family.
    public init(target: String = "ssdp:all", maximumWait: Int = 2, host: String = "239.255.255.250:1900") {
        self.target = target
        self.maximumWait = maximumWait
        self.host = host
    }
}

/// What a device says of itself, in a response or a `NOTIFY`.
public struct SSDPAdvertisement: Hashable, Sendable {
    /// `USN`: the unique name, `uuid:…::urn:…`.
    public var uniqueServiceName: String
    /// `ST` in a response, `NT` in a `NOTIFY`.
    public var target: String
    /// `LOCATION`: the URL of the device description (absent in a byebye).
    public var location: String?
    /// `SERVER`: `OS/version UPnP/1.1 product/version`.
    public var server: String?
    /// `CACHE-CONTROL: max-age`, seconds the advertisement stays valid.
    public var maximumAge: Int?

    /// An advertisement; ``SSDPResponder/advertisements(uuid:type:location:server:maximumAge:)`` makes the set
    /// a root device sends.
    ///
    /// - Parameters:
    ///   - uniqueServiceName: `USN`: `uuid:…`, or `uuid:…::` and the target.
    ///   - target: `ST` in a response, `NT` in a `NOTIFY`.
    ///   - location: `LOCATION`: the URL of the device description; required in a response and an
    ///     `ssdp:alive`, left out of an `ssdp:byebye`.
    ///   - server: `SERVER`: `OS/version UPnP/1.1 product/version`.
    ///   - maximumAge: `CACHE-CONTROL: max-age`, in seconds (1800 or more by the specification).
    public init(
        uniqueServiceName: String,
        target: String,
        location: String? = nil,
        server: String? = nil,
        maximumAge: Int? = nil
    ) {
        self.uniqueServiceName = uniqueServiceName
        self.target = target
        self.location = location
        self.server = server
        self.maximumAge = maximumAge
    }
}

/// A `NOTIFY`'s `NTS`.
public enum SSDPNotification: String, Hashable, Sendable {
    /// `ssdp:alive`: the device or service is available, until `max-age` runs out unless repeated (§1.2.2).
    case alive = "ssdp:alive"
    /// `ssdp:byebye`: the device or service is leaving; forget it now (§1.2.3).
    case byebye = "ssdp:byebye"
    /// `ssdp:update`: the device's boot instance changed while it stayed on the network (§1.2.4).
    case update = "ssdp:update"
}

/// Why bytes are not an SSDP message.
public enum SSDPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The datagram is not valid UTF-8.
    case notText
    /// The first line is none of `M-SEARCH * HTTP/1.1`, `NOTIFY * HTTP/1.1` and an `HTTP/1.x 200` status line
    /// (empty when the datagram has no line at all).
    case badStartLine(String)
    /// A line longer than ``SSDPMessage/maximumLineLength`` bytes.
    case lineTooLong
    /// More than ``SSDPMessage/maximumHeaders`` header lines.
    case tooManyHeaders
    /// A header the message needs is absent or empty; its name (`ST`, `USN`, `LOCATION`, `NT`, `NTS`, or `MAN`
    /// when a search lacks `MAN: "ssdp:discover"`).
    case missingHeader(String)
    /// A header that does not parse: its name (`MX` outside 0–120, an unknown `NTS`, a `max-age` that is not a
    /// number of seconds), or the first 32 characters of a line without a colon.
    case badHeader(String)

    /// Whether the datagram passed a size limit (``lineTooLong``, ``tooManyHeaders``), which a listener counts
    /// apart from what is merely malformed.
    public var isOversized: Bool { self == .lineTooLong || self == .tooManyHeaders }

    public var description: String {
        switch self {
        case .notText: "not UTF-8 text"
        case .badStartLine(let line): "not an SSDP start line: \(line.prefix(64))"
        case .lineTooLong: "a line over \(SSDPMessage.maximumLineLength) bytes"
        case .tooManyHeaders: "more than \(SSDPMessage.maximumHeaders) header lines"
        case .missingHeader(let name): "no \(name) header"
        case .badHeader(let name): "a malformed \(name) header"
        }
    }
}

extension SSDPMessage {
    /// Parses one datagram.
    ///
    /// The limits apply while the bytes are read, before anything is kept for them: a line is refused at its
    /// ``maximumLineLength``-plus-first byte, the headers at the line after the ``maximumHeaders``-th, so a
    /// datagram of one 8 KB line or a thousand headers costs no more than the limits do. Lines end at `\r\n`,
    /// `\n` or `\r`; the headers end at the first empty line, and a body after it is not read.
    public init(parsing bytes: some Collection<UInt8>) throws(SSDPError) {
        let lines = try Self.headerLines(bytes)
        guard let start = lines.first else { throw .badStartLine("") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw .badHeader(String(line.prefix(32))) }
            let name = line[..<colon].trimmingSpaces.uppercased()
            guard !name.isEmpty else { throw .badHeader("") }
            // The first of repeated headers counts.
            if headers[name] == nil { headers[name] = String(line[line.index(after: colon)...].trimmingSpaces) }
        }
        func required(_ name: String) throws(SSDPError) -> String {
            guard let value = headers[name], !value.isEmpty else { throw .missingHeader(name) }
            return value
        }
        switch start.uppercased() {
        case "M-SEARCH * HTTP/1.1":
            guard headers["MAN"]?.lowercased() == "\"ssdp:discover\"" else { throw .missingHeader("MAN") }
            let mx = headers["MX"].flatMap { Int($0) } ?? 1
            guard (0...120).contains(mx) else { throw .badHeader("MX") }
            self = .search(SSDPSearch(target: try required("ST"), maximumWait: mx, host: headers["HOST"] ?? ""))
        case "NOTIFY * HTTP/1.1":
            guard let kind = SSDPNotification(rawValue: try required("NTS").lowercased()) else {
                throw .badHeader("NTS")
            }
            self = .notify(
                try Self.advertisement(headers, target: try required("NT"), needsLocation: kind != .byebye),
                kind
            )
        default:
            let words = start.split(separator: " ", maxSplits: 2)
            guard words.count >= 2, words[0].uppercased().hasPrefix("HTTP/1."), words[1] == "200" else {
                throw .badStartLine(String(start))
            }
            self = .response(try Self.advertisement(headers, target: try required("ST"), needsLocation: true))
        }
    }

    /// The lines before the first empty one, each checked against the limits as it is read.
    private static func headerLines(_ bytes: some Collection<UInt8>) throws(SSDPError) -> [Substring] {
        var lines: [Substring] = []
        var line: [UInt8] = []
        var afterCarriageReturn = false
        func finish(_ line: inout [UInt8]) throws(SSDPError) {
            guard let text = String(validating: line, as: UTF8.self) else { throw .notText }
            guard lines.count <= maximumHeaders else { throw .tooManyHeaders }  // the start line and the headers
            lines.append(Substring(text))
            line.removeAll(keepingCapacity: true)
        }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n") where afterCarriageReturn:
                afterCarriageReturn = false
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                afterCarriageReturn = byte == UInt8(ascii: "\r")
                guard !line.isEmpty else { return lines }  // the end of the headers; a body, if any, is ignored
                try finish(&line)
            default:
                afterCarriageReturn = false
                guard line.count < maximumLineLength else { throw .lineTooLong }
                line.append(byte)
            }
        }
        if !line.isEmpty { try finish(&line) }
        return lines
    }

    private static func advertisement(
        _ headers: [String: String],
        target: String,
        needsLocation: Bool
    ) throws(SSDPError) -> SSDPAdvertisement {
        guard let usn = headers["USN"], !usn.isEmpty else { throw .missingHeader("USN") }
        let location = headers["LOCATION"].flatMap { $0.isEmpty ? nil : $0 }
        if needsLocation && location == nil { throw .missingHeader("LOCATION") }
        var maximumAge: Int?
        if let control = headers["CACHE-CONTROL"] {
            // `max-age = 1800`, perhaps among other directives.
            for directive in control.split(separator: ",") {
                let parts = directive.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces.lowercased() }
                if parts.count == 2, parts[0] == "max-age" {
                    guard let seconds = Int(parts[1]), seconds >= 0 else { throw .badHeader("CACHE-CONTROL") }
                    maximumAge = seconds
                }
            }
        }
        return SSDPAdvertisement(
            uniqueServiceName: usn,
            target: target,
            location: location,
            server: headers["SERVER"],
            maximumAge: maximumAge
        )
    }

    /// The `HOST` of a message to the group on `family`: `239.255.255.250:1900` or `[FF02::C]:1900`.
    public static func groupHost(_ family: AddressFamily) -> String {
        family == .inet6 ? "[FF02::C]:1900" : "239.255.255.250:1900"
    }

    /// The message as a datagram, with `\r\n` line ends; a `NOTIFY` names the IPv4 group as its `HOST`.
    public var encoded: [UInt8] { encoded(for: .inet) }

    /// The message as a datagram, with `\r\n` line ends; a `NOTIFY` names the group of `family` as its `HOST`.
    public func encoded(for family: AddressFamily) -> [UInt8] {
        var lines: [String]
        switch self {
        case .search(let search):
            lines = [
                "M-SEARCH * HTTP/1.1", "HOST: \(search.host)", "MAN: \"ssdp:discover\"", "MX: \(search.maximumWait)",
                "ST: \(search.target)",
            ]
        case .response(let advertisement):
            lines = ["HTTP/1.1 200 OK"] + Self.headerLines(advertisement) + ["ST: \(advertisement.target)", "EXT:"]
        case .notify(let advertisement, let kind):
            lines =
                ["NOTIFY * HTTP/1.1", "HOST: \(Self.groupHost(family))"] + Self.headerLines(advertisement)
                + ["NT: \(advertisement.target)", "NTS: \(kind.rawValue)"]
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }

    private static func headerLines(_ advertisement: SSDPAdvertisement) -> [String] {
        var lines: [String] = []
        if let age = advertisement.maximumAge { lines.append("CACHE-CONTROL: max-age=\(age)") }
        if let location = advertisement.location { lines.append("LOCATION: \(location)") }
        if let server = advertisement.server { lines.append("SERVER: \(server)") }
        lines.append("USN: \(advertisement.uniqueServiceName)")
        return lines
    }
}

extension Substring {
    /// Without spaces and tabs at either end.
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
