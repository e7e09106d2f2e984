import UDP
import UDPDNS

/// A service to publish by multicast DNS: an instance of a type, on a host, at a port, with TXT strings.
public struct MDNSService: Hashable, Sendable {
    /// The instance's name, one label: `Web Server`. A conflict renames it `Web Server (2)`, `(3)`…
    public var instance: String
    /// The type with its domain: `_http._tcp.local`.
    public var type: DNSName
    /// The port the service listens on, published in its SRV record.
    public var port: UInt16
    /// `key=value` strings (RFC 6763 §6); empty for none.
    public var txt: [[UInt8]]
    /// The host name that the SRV record names and the address records belong to: `box.local`.
    public var host: DNSName
    /// The host's addresses, published as A and AAAA records.
    public var addresses: [IPAddress]

    /// A service to publish.
    ///
    /// - Parameters:
    ///   - instance: The instance's name, one label of at most 63 bytes of UTF-8 (`Web Server`). One that does
    ///     not fit (or makes the full name over 255 bytes) makes ``instanceName`` throw, and a responder then
    ///     publishes nothing.
    ///   - type: The service type with its domain: `_http._tcp.local`.
    ///   - port: The port the service listens on.
    ///   - txt: `key=value` strings of at most 255 bytes each; empty for none.
    ///   - host: The host name that the SRV record names: `box.local`.
    ///   - addresses: The host's addresses, published as A and AAAA records.
    public init(instance: String, type: DNSName, port: UInt16, txt: [[UInt8]], host: DNSName, addresses: [IPAddress]) {
        self.instance = instance
        self.type = type
        self.port = port
        self.txt = txt
        self.host = host
        self.addresses = addresses
    }

    /// The instance's full name: `Web Server._http._tcp.local`.
    public var instanceName: DNSName {
        get throws(DNSError) { try type.prepending(Array(instance.utf8)) }
    }

    /// TTLs as RFC 6762 §10 recommends: 120 s for records about the host, 4500 s for the rest.
    static let hostTTL: UInt32 = 120
    static let otherTTL: UInt32 = 4500
    /// The cache-flush bit set on class IN: for the records only this responder owns.
    static let uniqueClass: UInt16 = 0x8001

    /// The records that publish the service: the PTRs (shared), then SRV, TXT, A and AAAA (unique).
    func records(ttlScale: UInt32 = 1) throws(DNSError) -> (shared: [DNSRecord], unique: [DNSRecord]) {
        let name = try instanceName
        let shared = [
            DNSRecord(name: type, ttl: Self.otherTTL * ttlScale, data: .ptr(name)),
            DNSRecord(name: DNSSDBrowser.allTypes, ttl: Self.otherTTL * ttlScale, data: .ptr(type)),
        ]
        var unique = [
            DNSRecord(
                name: name,
                rawClass: Self.uniqueClass,
                ttl: Self.hostTTL * ttlScale,
                data: .srv(priority: 0, weight: 0, port: port, target: host)
            ),
            // No strings is one empty string on the wire (RFC 6763 §6.1): the record as it will come back.
            DNSRecord(
                name: name,
                rawClass: Self.uniqueClass,
                ttl: Self.otherTTL * ttlScale,
                data: .txt(txt.isEmpty ? [[]] : txt)
            ),
        ]
        for address in addresses {
            let data: DNSRecordData =
                switch address {
                case .v4(let v4): .a(v4)
                case .v6(let v6): .aaaa(v6)
                }
            unique.append(DNSRecord(name: host, rawClass: Self.uniqueClass, ttl: Self.hostTTL * ttlScale, data: data))
        }
        return (shared, unique)
    }
}
