import UDP
import UDPDNS

/// Turns what an mDNS cache holds into DNS-SD service instances (RFC 6763), without a socket or a clock: an
/// instance *appears* when a PTR record of a browsed type names it, is *resolved* once its SRV (host and port),
/// its TXT and an address of its host are all known, and is *removed* when its PTR record goes.
///
/// Browsing every type starts from the meta-query `_services._dns-sd._udp.local` (§9): each type it names is
/// browsed in turn.
///
/// ```swift
/// var browser = DNSSDBrowser(types: nil)                // every type on the link
/// let changes = cache.insert(response.answers + response.additionals, at: now)
/// for event in browser.apply(changes, cache: cache) { print(event) }
/// let questions = browser.questions(cache: cache)      // what to ask next
/// ```
public struct DNSSDBrowser: Sendable {
    /// The name of the DNS-SD meta-query: PTR records from it name the service types on the link.
    public static let allTypes = DNSName("_services._dns-sd._udp.local")!

    /// One service instance, as far as it is known.
    public struct Instance: Hashable, Sendable {
        /// The full name: `Web Server._http._tcp.local`.
        public var name: DNSName
        /// The service type's name: `_http._tcp.local`.
        public var type: DNSName
        /// Where it runs, from its SRV record.
        public var host: DNSName?
        /// The port it listens on, from its SRV record; nil until that is known.
        public var port: UInt16?
        /// Its host's addresses, IPv4 first, each family sorted.
        public var addresses: [IPAddress] = []
        /// Its TXT strings (`key=value` by convention), nil until its TXT record is known.
        public var txt: [[UInt8]]?

        /// Its first label, as text: `Web Server`.
        public var instanceName: String { name.labels.first.map(DNSName.text) ?? "" }
        /// The type without the domain, as DNS-SD writes it: `_http._tcp`.
        public var serviceType: String { type.labels.prefix(2).map(DNSName.text).joined(separator: ".") }
        /// The domain: `local`.
        public var domain: String { type.labels.dropFirst(2).map(DNSName.text).joined(separator: ".") }
        /// Whether the host, port, TXT and at least one address are known.
        public var isResolved: Bool { host != nil && port != nil && txt != nil && !addresses.isEmpty }

        /// The TXT strings as keys and values (RFC 6763 §6.3-6.4): `key=value`, or a key alone (nil value); the
        /// first of duplicate keys wins, keys compare ignoring ASCII case.
        public var txtAttributes: [(key: String, value: [UInt8]?)] {
            var seen = Set<String>()
            var attributes: [(key: String, value: [UInt8]?)] = []
            for string in txt ?? [] where !string.isEmpty && string.first != UInt8(ascii: "=") {
                let equals = string.firstIndex(of: UInt8(ascii: "="))
                let key = String(decoding: string[..<(equals ?? string.endIndex)], as: UTF8.self)
                guard seen.insert(key.lowercased()).inserted else { continue }
                attributes.append((key, equals.map { Array(string[string.index(after: $0)...]) }))
            }
            return attributes
        }
    }

    /// What happened to an instance.
    public enum Event: Hashable, Sendable {
        /// A PTR record of a browsed type named a new instance; little or nothing else is known of it yet.
        case appeared(Instance)
        /// The instance's host, port, TXT and at least one address are known; reported again whenever any of
        /// them changes.
        case resolved(Instance)
        /// The PTR record that named the instance left the cache (a goodbye, its TTL ran out, a cache flush, or
        /// the cache was full).
        case removed(Instance)
    }

    /// The types browsed now (for every type, those the meta-query found so far).
    public private(set) var types: Set<DNSName>
    /// Whether every type is browsed, through the meta-query.
    public let browsesAllTypes: Bool
    /// The instances known, by full name.
    public private(set) var instances: [DNSName: Instance] = [:]
    /// Each instance as last reported resolved, to report it again only when it changes.
    private var reported: [DNSName: Instance] = [:]
    /// The instances on each host, so an address that comes or goes touches only those.
    private var instancesByHost: [DNSName: Set<DNSName>] = [:]

    /// A browser that knows no instance yet; ``questions(cache:)`` says what to ask first.
    ///
    /// - Parameter types: The service types to browse (`_http._tcp.local`), or nil for every type on the link.
    public init(types: [DNSName]?) {
        self.types = Set(types ?? [])
        browsesAllTypes = types == nil
    }

    /// Applies what the cache just did, and returns what that means for instances.
    ///
    /// Only the instances a change touches are looked at again (their own SRV and TXT, their host's addresses),
    /// so a packet costs the same however many instances are known.
    public mutating func apply(_ changes: [MDNSCache.Change], cache: MDNSCache) -> [Event] {
        var events: [Event] = []
        var touched: [DNSName] = []
        for change in changes {
            let record: DNSRecord
            switch change {
            case .added(let added):
                record = added
                if case .ptr(let target) = record.data {
                    if browsesAllTypes && record.name == Self.allTypes {
                        types.insert(target)
                    } else if types.contains(record.name), instances[target] == nil {
                        let instance = Instance(name: target, type: record.name)
                        instances[target] = instance
                        events.append(.appeared(instance))
                        touched.append(target)
                    }
                    continue
                }
            case .removed(let removed):
                record = removed
                if case .ptr(let target) = record.data, types.contains(record.name) {
                    if let instance = instances.removeValue(forKey: target) {
                        reported[target] = nil
                        if let host = instance.host { forget(target, onHost: host) }
                        events.append(.removed(instance))
                    }
                    continue
                }
            }
            switch record.type {
            case .srv, .txt: if instances[record.name] != nil { touched.append(record.name) }
            case .a, .aaaa: touched += instancesByHost[record.name] ?? []
            default: break
            }
        }
        for name in Set(touched).sorted(by: { $0.description < $1.description }) {
            guard let known = instances[name] else { continue }
            let instance = Self.resolve(known, cache: cache)
            instances[name] = instance
            if known.host != instance.host {
                if let old = known.host { forget(name, onHost: old) }
                if let new = instance.host { instancesByHost[new, default: []].insert(name) }
            }
            if instance.isResolved && reported[name] != instance {
                reported[name] = instance
                events.append(.resolved(instance))
            }
        }
        return events
    }

    private mutating func forget(_ instance: DNSName, onHost host: DNSName) {
        instancesByHost[host]?.remove(instance)
        if instancesByHost[host]?.isEmpty == true { instancesByHost[host] = nil }
    }

    /// The instance with what the cache knows of its SRV, TXT and host addresses.
    static func resolve(_ instance: Instance, cache: MDNSCache) -> Instance {
        var instance = instance
        instance.host = nil
        instance.port = nil
        instance.addresses = []
        // Several SRV records: the lowest priority, then the highest weight, as a client would pick.
        let services = cache.records(named: instance.name, type: .srv).compactMap { record in
            if case .srv(let priority, let weight, let port, let target) = record.data {
                return (priority, weight, port, target)
            }
            return nil
        }
        if let service = services.min(by: { ($0.0, ~$0.1) < ($1.0, ~$1.1) }) {
            instance.port = service.2
            instance.host = service.3
            let v4 = cache.records(named: service.3, type: .a).compactMap { record -> IPAddress? in
                if case .a(let address) = record.data { return .v4(address) } else { return nil }
            }
            let v6 = cache.records(named: service.3, type: .aaaa).compactMap { record -> IPAddress? in
                if case .aaaa(let address) = record.data { return .v6(address) } else { return nil }
            }
            instance.addresses = v4.sorted { "\($0)" < "\($1)" } + v6.sorted { "\($0)" < "\($1)" }
        }
        instance.txt =
            cache.records(named: instance.name, type: .txt).compactMap { record -> [[UInt8]]? in
                if case .txt(let strings) = record.data { return strings } else { return nil }
            }.first
        return instance
    }

    /// What to ask now: the PTR records of each type (and the meta-query when browsing every type), then the
    /// SRV and TXT records of each unresolved instance, and the addresses of hosts whose SRV is known.
    public func questions(cache: MDNSCache) -> [DNSQuestion] {
        var questions: [DNSQuestion] = []
        if browsesAllTypes { questions.append(DNSQuestion(name: Self.allTypes, type: .ptr)) }
        questions += types.sorted { $0.description < $1.description }.map { DNSQuestion(name: $0, type: .ptr) }
        for instance in instances.values.sorted(by: { $0.name.description < $1.name.description })
        where !instance.isResolved {
            if instance.port == nil { questions.append(DNSQuestion(name: instance.name, type: .srv)) }
            if instance.txt == nil { questions.append(DNSQuestion(name: instance.name, type: .txt)) }
            if let host = instance.host, instance.addresses.isEmpty {
                questions += [DNSQuestion(name: host, type: .a), DNSQuestion(name: host, type: .aaaa)]
            }
        }
        return questions
    }
}
