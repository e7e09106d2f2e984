import UDP
import UDPDNS

/// Turns what an mDNS cache holds into DNS-SD service instances (RFC 6763), without a socket or a clock: an
/// instance *appears* when a PTR record of a browsed type names it, is *resolved* once its SRV (host and port),
/// its TXT and an address of its host are all known, and is *removed* when its PTR record goes.
///
/// Browsing every type starts from the meta-query `_services._dns-sd._udp.local` (§9): each type it names is
/// browsed in turn, for as long as the cache holds the record that named it. An instance whose PTR record came
/// before its type was known is reported when the type is learned. A meta-query PTR that names the meta-query
/// itself is ignored: that name is not a service type.
///
/// **Bounds.** Anyone on the link can answer the meta-query, so the types it adds are bounded: at most
/// ``maximumTypes`` (1024) taking ``maximumTypeBytes`` (64 KiB of names); a type past either is refused and
/// counted in ``Counters/typesRefused``. The instances are bounded the same way, ``maximumInstances`` (1024)
/// and ``maximumInstanceBytes`` (1 MiB as ``size(of:)`` counts them), refusals counted in
/// ``Counters/instancesRefused`` and ``Counters/updatesRefused``. The tables behind them (the instances by
/// host, those already reported) hold at most one entry an instance.
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

    /// What the browser refused because a bound was reached.
    public struct Counters: Hashable, Sendable {
        /// Service types the meta-query named that were not browsed: ``maximumTypes`` or ``maximumTypeBytes``
        /// was reached.
        public var typesRefused = 0
        /// Instances a PTR record named that were not tracked: ``maximumInstances`` or ``maximumInstanceBytes``
        /// was reached.
        public var instancesRefused = 0
        /// Changes to a tracked instance (a new host, TXT or addresses) not taken because they would have
        /// taken the instances past ``maximumInstanceBytes``; the instance stays as it was.
        public var updatesRefused = 0
        /// All counts zero.
        public init() {}
    }

    /// The most service types browsed when browsing every type: 1024 by default.
    public let maximumTypes: Int
    /// The most bytes the types browsed may take, counted as their names' wire length: 64 KiB by default.
    public let maximumTypeBytes: Int
    /// The most instances tracked: 1024 by default.
    public let maximumInstances: Int
    /// The most bytes the instances tracked may take, counted as ``size(of:)`` counts them (names, host, TXT,
    /// addresses): 1 MiB by default.
    public let maximumInstanceBytes: Int

    /// The types browsed now (for every type, those the meta-query found so far and the cache still holds);
    /// made on each call, ``typeCount`` counts them without.
    public var types: Set<DNSName> { Set(typeKeys.lazy.map(\.name)) }
    /// How many types are browsed now.
    public var typeCount: Int { typeKeys.count }
    /// Whether every type is browsed, through the meta-query.
    public let browsesAllTypes: Bool
    /// The instances known, by full name; made on each call.
    public var instances: [DNSName: Instance] {
        Dictionary(uniqueKeysWithValues: known.values.lazy.map { ($0.name, $0) })
    }
    /// What was refused for a bound, by reason.
    public private(set) var counters = Counters()
    /// Bytes the types take, by their wire length.
    public private(set) var typeBytes = 0
    /// Bytes the instances take, as ``size(of:)`` counts them.
    public private(set) var instanceBytes = 0
    /// The types in the order questions ask them, each with its text (the sort key), kept sorted as types
    /// come and go so a query does not sort them all again.
    private var orderedTypes: [(text: String, name: DNSName)] = []
    /// Each instance as last reported resolved, to report it again only when it changes.
    private var reported: [NameKey: Instance] = [:]
    /// The instances on each host, so an address that comes or goes touches only those.
    private var instancesByHost: [NameKey: Set<NameKey>] = [:]
    // The tables a record looks names up in are keyed by `NameKey`, which hashes a name once, not on every
    // look-up: in a debug build, hashing a `DNSName` cost more than everything else a record does (issue 22).
    /// The types browsed, for look-ups.
    private var typeKeys: Set<NameKey>
    /// The instances known, by full name.
    private var known: [NameKey: Instance] = [:]
    private static let allTypesKey = NameKey(allTypes)

    /// A browser that knows no instance yet; ``questions(cache:)`` says what to ask first.
    ///
    /// - Parameters:
    ///   - types: The service types to browse (`_http._tcp.local`), or nil for every type on the link.
    ///   - maximumTypes: The most types the meta-query may add when browsing every type.
    ///   - maximumTypeBytes: The most bytes those types may take, by their names' wire length.
    ///   - maximumInstances: The most instances tracked.
    ///   - maximumInstanceBytes: The most bytes the instances may take (``size(of:)``).
    public init(
        types: [DNSName]?,
        maximumTypes: Int = 1_024,
        maximumTypeBytes: Int = 64 << 10,
        maximumInstances: Int = 1_024,
        maximumInstanceBytes: Int = 1 << 20
    ) {
        typeKeys = Set((types ?? []).map(NameKey.init))
        browsesAllTypes = types == nil
        self.maximumTypes = maximumTypes
        self.maximumTypeBytes = maximumTypeBytes
        self.maximumInstances = maximumInstances
        self.maximumInstanceBytes = maximumInstanceBytes
        orderedTypes = typeKeys.map { ($0.name.description, $0.name) }.sorted { $0.text < $1.text }
        typeBytes = typeKeys.reduce(0) { $0 + $1.name.wireLength }
    }

    /// What an instance counts for against ``maximumInstanceBytes``: its names, host and TXT as on the wire,
    /// 16 bytes an address, and 64 of bookkeeping.
    public static func size(of instance: Instance) -> Int {
        instance.name.wireLength + instance.type.wireLength + (instance.host?.wireLength ?? 0)
            + (instance.txt ?? []).reduce(0) { $0 + 1 + $1.count } + 16 * instance.addresses.count + 64
    }

    /// Applies what the cache just did, and returns what that means for instances.
    ///
    /// Only the instances a change touches are looked at again (their own SRV and TXT, their host's addresses),
    /// so a packet costs the same however many instances are known. A type learned from the meta-query brings
    /// in the instances whose PTR records the cache already holds, heard before the type was known.
    public mutating func apply(_ changes: [MDNSCache.Change], cache: MDNSCache) -> [Event] {
        var events: [Event] = []
        var touched: [NameKey] = []
        for change in changes {
            let record: DNSRecord
            switch change {
            case .added(let added):
                record = added
                if case .ptr(let target) = record.data {
                    let owner = NameKey(record.name)
                    if browsesAllTypes && owner == Self.allTypesKey {
                        let type = NameKey(target)
                        guard learn(type) else { continue }
                        for held in cache.records(named: target, type: .ptr) {
                            if case .ptr(let name) = held.data {
                                let name = NameKey(name)
                                if appear(name, type: target, &events) { touched.append(name) }
                            }
                        }
                    } else if typeKeys.contains(owner) {
                        let name = NameKey(target)
                        if appear(name, type: record.name, &events) { touched.append(name) }
                    }
                    continue
                }
            case .removed(let removed):
                record = removed
                if case .ptr(let target) = record.data {
                    let owner = NameKey(record.name)
                    if browsesAllTypes && owner == Self.allTypesKey {
                        forget(type: NameKey(target))
                    } else {
                        let name = NameKey(target)
                        if let instance = known[name], NameKey(instance.type) == owner {
                            // Its PTR went, whether or not its type is still browsed.
                            known[name] = nil
                            instanceBytes -= Self.size(of: instance)
                            reported[name] = nil
                            if let host = instance.host { forget(name, onHost: NameKey(host)) }
                            events.append(.removed(instance))
                        }
                    }
                    continue
                }
            }
            switch record.type {
            case .srv, .txt:
                let name = NameKey(record.name)
                if known[name] != nil { touched.append(name) }
            case .a, .aaaa: touched += instancesByHost[NameKey(record.name)] ?? []
            default: break
            }
        }
        let names = Set(touched).map { ($0.name.description, $0) }.sorted { $0.0 < $1.0 }.map(\.1)
        for name in names {
            guard let before = known[name] else { continue }
            let instance = Self.resolve(before, cache: cache)
            let growth = Self.size(of: instance) - Self.size(of: before)
            guard instanceBytes + growth <= maximumInstanceBytes else {
                counters.updatesRefused += 1
                continue
            }
            instanceBytes += growth
            known[name] = instance
            if before.host != instance.host {
                if let old = before.host { forget(name, onHost: NameKey(old)) }
                if let new = instance.host { instancesByHost[NameKey(new), default: []].insert(name) }
            }
            if instance.isResolved && reported[name] != instance {
                reported[name] = instance
                events.append(.resolved(instance))
            }
        }
        return events
    }

    /// Starts browsing `type`, named by the meta-query; false when it is browsed already or a bound refuses it.
    ///
    /// The meta-query's own name is never a type: a forged `_services._dns-sd._udp.local PTR
    /// _services._dns-sd._udp.local` would otherwise make every type the meta-query names an "instance" of it,
    /// one that no meta-query PTR ever removes, until those filled the instance bound.
    private mutating func learn(_ type: NameKey) -> Bool {
        guard !typeKeys.contains(type), type != Self.allTypesKey else { return false }
        let wireLength = type.name.wireLength
        guard typeKeys.count < maximumTypes, typeBytes + wireLength <= maximumTypeBytes else {
            counters.typesRefused += 1
            return false
        }
        typeKeys.insert(type)
        typeBytes += wireLength
        let text = type.name.description
        orderedTypes.insert((text, type.name), at: orderedTypes.partitioningIndex { $0.text >= text })
        return true
    }

    /// Stops browsing `type`, whose meta-query PTR left the cache; its instances stay until their own PTRs go.
    private mutating func forget(type: NameKey) {
        guard typeKeys.remove(type) != nil else { return }
        typeBytes -= type.name.wireLength
        let text = type.name.description
        let index = orderedTypes.partitioningIndex { $0.text >= text }
        if index < orderedTypes.count, orderedTypes[index].name == type.name { orderedTypes.remove(at: index) }
    }

    /// Tracks the instance `name` of `type`, reporting it; false when it is known already or a bound refuses it.
    private mutating func appear(_ name: NameKey, type: DNSName, _ events: inout [Event]) -> Bool {
        guard known[name] == nil else { return false }
        let instance = Instance(name: name.name, type: type)
        let size = Self.size(of: instance)
        guard known.count < maximumInstances, instanceBytes + size <= maximumInstanceBytes else {
            counters.instancesRefused += 1
            return false
        }
        known[name] = instance
        instanceBytes += size
        events.append(.appeared(instance))
        return true
    }

    private mutating func forget(_ instance: NameKey, onHost host: NameKey) {
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
        questions += orderedTypes.map { DNSQuestion(name: $0.name, type: .ptr) }
        let unresolved = known.values.filter { !$0.isResolved }.map { ($0.name.description, $0) }
        for instance in unresolved.sorted(by: { $0.0 < $1.0 }).map(\.1) {
            if instance.port == nil { questions.append(DNSQuestion(name: instance.name, type: .srv)) }
            if instance.txt == nil { questions.append(DNSQuestion(name: instance.name, type: .txt)) }
            if let host = instance.host, instance.addresses.isEmpty {
                questions += [DNSQuestion(name: host, type: .a), DNSQuestion(name: host, type: .aaaa)]
            }
        }
        return questions
    }
}

extension Array {
    /// The first index whose element satisfies `belongs`, for an array in which every element that does comes
    /// after every one that does not: a binary search.
    fileprivate func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
