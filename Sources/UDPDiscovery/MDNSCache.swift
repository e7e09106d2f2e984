import UDPDNS
import UDPPatterns

/// The records an mDNS querier has heard (RFC 6762 §10), without a socket or a clock: each call says what time
/// it is, in nanoseconds of a monotonic clock.
///
/// - A record lives for its TTL from when it was last heard; ``expire(now:)`` removes what is due.
/// - A goodbye (TTL 0) ends a record one second later (§10.1), so a late repeat does not resurrect it.
/// - A record with the cache-flush bit (the class's top bit, §10.2) ends, one second later, every other record
///   of the same name, type and class heard more than a second before: the sender says this set is now whole.
/// - The cache is bounded in records and in bytes. When full it first drops what expires soonest, so a flood of
///   forged records from the link can only displace itself; every operation on a record costs a heap step
///   and a few hash look-ups, never a walk over the whole cache.
public struct MDNSCache: Sendable {
    /// What a call did to the cache, in order.
    public enum Change: Hashable, Sendable {
        /// A record not in the cache before.
        case added(DNSRecord)
        /// A record gone: expired, said goodbye, flushed, or pushed out because the cache was full.
        case removed(DNSRecord)
    }

    /// A cached record, and when it was heard and ends.
    public struct Entry: Hashable, Sendable {
        /// The record, its class without the cache-flush bit, its TTL as last heard.
        public var record: DNSRecord
        /// When the record was last heard, in nanoseconds of the caller's monotonic clock.
        public var receivedAt: UInt64
        /// When the record ends: ``receivedAt`` plus its TTL, or a second after a goodbye or a cache flush
        /// ended it early.
        public var expiresAt: UInt64
    }

    /// Nanoseconds in a second.
    static let second: UInt64 = 1_000_000_000

    /// The most records held at once; a new record beyond it pushes out the ones that expire soonest.
    public let maximumRecords: Int
    /// The most bytes (as ``bytes`` counts them) the records may take together; a new record beyond it pushes
    /// out the ones that expire soonest, and a record larger than this on its own is not cached at all.
    public let maximumBytes: Int
    /// The records held now, by identity (name, type, class, data).
    public private(set) var entries: [RecordKey: Entry] = [:]
    /// Bytes the cached records take, as counted for the bound (their size on the wire, plus bookkeeping).
    public private(set) var bytes = 0
    /// Every record's expiry, soonest first. An entry whose record has since been refreshed, flushed or
    /// removed is stale and skipped when it comes up; the heap is rebuilt when stale ones outnumber the rest.
    private var expiries = DeadlineHeap<UInt64, RecordKey>()
    /// The records of each name, type and class, for cache-flush.
    private var rrsets: [RRSetKey: Set<RecordKey>] = [:]

    /// An empty cache with these bounds: by default 4096 records and 1 MiB.
    ///
    /// - Parameters:
    ///   - maximumRecords: The most records held at once; more than 0.
    ///   - maximumBytes: The most bytes they may take together; more than 0.
    public init(maximumRecords: Int = 4096, maximumBytes: Int = 1 << 20) {
        precondition(maximumRecords > 0 && maximumBytes > 0, "a cache needs room")
        self.maximumRecords = maximumRecords
        self.maximumBytes = maximumBytes
    }

    /// Takes in the records of a response heard at `now`.
    ///
    /// - Returns: The records that came or went.
    public mutating func insert(_ records: [DNSRecord], at now: UInt64) -> [Change] {
        var changes: [Change] = []
        for received in records {
            let flushes = received.rawClass & 0x8000 != 0
            var record = received
            record.rawClass &= 0x7FFF
            let key = RecordKey(record)
            if flushes {
                // Other records of this name, type and class heard over a second ago end in a second.
                for other in rrsets[RRSetKey(key)] ?? [] where other != key {
                    guard let entry = entries[other], entry.receivedAt + Self.second < now else { continue }
                    setExpiry(of: other, to: min(entry.expiresAt, now + Self.second))
                }
            }
            if record.ttl == 0 {
                // A goodbye: only for what is held, and then for one second more.
                if let entry = entries[key] { setExpiry(of: key, to: min(entry.expiresAt, now + Self.second)) }
                continue
            }
            let expiresAt = now + UInt64(record.ttl) * Self.second
            if entries[key] != nil {
                entries[key] = Entry(record: record, receivedAt: now, expiresAt: expiresAt)
                schedule(key, at: expiresAt)
                continue
            }
            let size = Self.size(of: record)
            guard size <= maximumBytes else { continue }
            while entries.count >= maximumRecords || bytes + size > maximumBytes {
                guard let removed = evictSoonestToExpire() else { break }
                changes.append(.removed(removed))
            }
            entries[key] = Entry(record: record, receivedAt: now, expiresAt: expiresAt)
            schedule(key, at: expiresAt)
            rrsets[RRSetKey(key), default: []].insert(key)
            bytes += size
            changes.append(.added(record))
        }
        return changes
    }

    /// Removes every record whose time is up at `now`.
    public mutating func expire(now: UInt64) -> [Change] {
        var changes: [Change] = []
        while let (deadline, key) = expiries.first, deadline <= now {
            _ = expiries.removeFirst()
            // Stale: the record was refreshed or flushed to another time, or is gone.
            guard let entry = entries[key], entry.expiresAt == deadline else { continue }
            remove(key)
            changes.append(.removed(entry.record))
        }
        return changes
    }

    /// When the next record expires, for a caller that sleeps until then; nil when the cache is empty.
    public mutating func nextExpiry() -> UInt64? {
        while let (deadline, key) = expiries.first {
            if let entry = entries[key], entry.expiresAt == deadline { return deadline }
            _ = expiries.removeFirst()
        }
        return nil
    }

    /// The records held for `name` and `type` (any type for `.any`, which looks at every record), class IN,
    /// the most recently heard first.
    public func records(named name: DNSName, type: DNSRecordType) -> [DNSRecord] {
        let held: [Entry]
        if type == .any {
            held = entries.values.filter { $0.record.name == name }
        } else {
            let set = RRSetKey(name: name, type: type, rawClass: DNSMessage.classInternet)
            held = (rrsets[set] ?? []).compactMap { entries[$0] }
        }
        // A flushed record lingers for a second beside the one that replaced it: the newer is the truth.
        return held.sorted { $0.receivedAt > $1.receivedAt }.map(\.record)
    }

    /// The answers a query for `question` lists as already known (§7.1): those held with more than half their
    /// TTL left at `now`, each with its remaining TTL, so responders need not send them again.
    public func knownAnswers(for question: DNSQuestion, at now: UInt64) -> [DNSRecord] {
        entries.values.compactMap { entry in
            guard entry.record.name == question.name, question.type == .any || entry.record.type == question.type,
                entry.expiresAt > now
            else { return nil }
            let left = entry.expiresAt - now
            guard left * 2 > UInt64(entry.record.ttl) * Self.second else { return nil }
            var record = entry.record
            record.ttl = UInt32(left / Self.second)
            return record
        }
    }

    private mutating func evictSoonestToExpire() -> DNSRecord? {
        while let (deadline, key) = expiries.removeFirst() {
            guard let entry = entries[key], entry.expiresAt == deadline else { continue }
            remove(key)
            return entry.record
        }
        return nil
    }

    private mutating func setExpiry(of key: RecordKey, to deadline: UInt64) {
        guard entries[key]?.expiresAt != deadline else { return }
        entries[key]?.expiresAt = deadline
        schedule(key, at: deadline)
    }

    private mutating func schedule(_ key: RecordKey, at deadline: UInt64) {
        expiries.insert(key, at: deadline)
        // Each change leaves one stale heap entry behind: rebuild before they outnumber the live ones.
        if expiries.count > 2 * entries.count + 64 {
            expiries = DeadlineHeap()
            for (key, entry) in entries { expiries.insert(key, at: entry.expiresAt) }
        }
    }

    private mutating func remove(_ key: RecordKey) {
        guard let entry = entries.removeValue(forKey: key) else { return }
        bytes -= Self.size(of: entry.record)
        let rrset = RRSetKey(key)
        rrsets[rrset]?.remove(key)
        if rrsets[rrset]?.isEmpty == true { rrsets[rrset] = nil }
    }

    /// What a record counts for against ``maximumBytes``: its name and data as on the wire, and the bookkeeping
    /// around them.
    static func size(of record: DNSRecord) -> Int { record.name.wireLength + dataSize(of: record) + 64 }

    /// Bytes a record's data takes on the wire, uncompressed (an NSEC type map counted at most: 2 per type).
    public static func dataSize(of record: DNSRecord) -> Int {
        switch record.data {
        case .a: 4
        case .aaaa: 16
        case .ptr(let name), .ns(let name), .cname(let name): name.wireLength
        case .mx(_, let exchange): 2 + exchange.wireLength
        case .soa(let soa): soa.primaryServer.wireLength + soa.mailbox.wireLength + 20
        case .srv(_, _, _, let target): 6 + target.wireLength
        case .txt(let strings): strings.reduce(0) { $0 + 1 + $1.count }
        case .nsec(let next, let types): next.wireLength + 2 * types.count
        case .unknown(_, let bytes): bytes.count
        }
    }
}

/// What makes two records the same record (RFC 6762 §10.2): name, type, class and data; not the TTL.
public struct RecordKey: Hashable, Sendable {
    /// The owner name (compared ignoring ASCII case, as `DNSName` compares).
    public var name: DNSName
    /// The record type.
    public var type: DNSRecordType
    /// The class, without the cache-flush bit.
    public var rawClass: UInt16
    /// The record data.
    public var data: DNSRecordData

    /// The identity of `record`: its TTL left out, the cache-flush bit cleared from its class.
    ///
    /// - Parameter record: A record as heard or as published.
    public init(_ record: DNSRecord) {
        name = record.name
        type = record.type
        rawClass = record.rawClass & 0x7FFF
        data = record.data
    }

}

/// A resource record set: the records of one name, type and class.
struct RRSetKey: Hashable, Sendable {
    var name: DNSName
    var type: DNSRecordType
    var rawClass: UInt16

    init(_ key: RecordKey) {
        self.init(name: key.name, type: key.type, rawClass: key.rawClass)
    }

    init(name: DNSName, type: DNSRecordType, rawClass: UInt16) {
        self.name = name
        self.type = type
        self.rawClass = rawClass
    }
}
