import UDP
import UDPDNS
import UDPPatterns

/// The records an mDNS querier has heard (RFC 6762 §10), without a socket or a clock: each call says what time
/// it is, as a `MonotonicInstant`.
///
/// - A record lives for its TTL from when it was last heard; ``expire(now:)`` removes what is due.
/// - A goodbye (TTL 0) ends a record one second later (§10.1), so a late repeat does not resurrect it.
/// - A record with the cache-flush bit (the class's top bit, §10.2) ends, one second later, every other record
///   of the same name, type and class heard more than a second before: the sender says this set is now whole.
///
/// **Bounds.** The cache holds at most ``maximumRecords`` records (4096 by default) taking ``maximumBytes``
/// (1 MiB), and each source address (the sender that first brought a record) at most
/// ``maximumRecordsPerSource`` and ``maximumBytesPerSource`` of them (an eighth of each: 512 records, 128 KiB).
/// A source at its quota that brings a new record pushes out its own record heard least recently; a cache that
/// is full pushes out the record heard least recently of the source holding the largest share. So a neighbour
/// flooding the link with long-lived records displaces only itself, never what other hosts announced. A record
/// larger than a source's byte quota on its own is not cached. Each is counted in ``counters`` by reason.
/// Every operation on a record costs a few heap steps and hash look-ups, never a walk over the whole cache.
public struct MDNSCache: Sendable {
    /// What a call did to the cache, in order.
    public enum Change: Hashable, Sendable {
        /// A record not in the cache before.
        case added(DNSRecord)
        /// A record gone: expired, said goodbye, flushed, or pushed out by its source's quota or a full cache.
        case removed(DNSRecord)
    }

    /// A cached record, and when it was heard and ends.
    public struct Entry: Hashable, Sendable {
        /// The record, its class without the cache-flush bit, its TTL as last heard.
        public var record: DNSRecord
        /// When the record was last heard.
        public var receivedAt: MonotonicInstant
        /// When the record ends: ``receivedAt`` plus its TTL, or a second after a goodbye or a cache flush
        /// ended it early.
        public var expiresAt: MonotonicInstant
        /// The address that first sent the record, whose quota it counts against; nil when the caller did not
        /// say. A repeat from another address refreshes the record but leaves it on its first source's quota, so
        /// repeating another host's records does not let a neighbour push them out.
        public var source: IPAddress?
        /// Which new record this was, in the order the cache took them in: what the heaps hold, a number that
        /// moves at no cost where a key would be copied with every reference in it.
        var serial: UInt64 = 0
    }

    /// What the cache pushed out or would not take, by reason. Expiries, goodbyes and cache flushes are the
    /// protocol working and are not counted.
    public struct Counters: Hashable, Sendable {
        /// Records pushed out because their source was at its quota and sent another: its own record heard
        /// least recently.
        public var evictedBySourceQuota = 0
        /// Records pushed out because the whole cache was full: the one heard least recently of the source holding
        /// the largest share.
        public var evictedWhenFull = 0
        /// Records not cached because they were larger than ``maximumBytesPerSource`` on their own.
        public var refusedTooLarge = 0
        /// All counts zero.
        public init() {}
    }

    /// How long a record lives after a goodbye or a cache flush ends it (§10.1, §10.2).
    static let second = Duration.seconds(1)

    /// The most records held at once, 4096 by default.
    public let maximumRecords: Int
    /// The most bytes (as ``bytes`` counts them) the records may take together, 1 MiB by default.
    public let maximumBytes: Int
    /// The most records held for one source address, an eighth of ``maximumRecords`` by default.
    public let maximumRecordsPerSource: Int
    /// The most bytes held for one source address, an eighth of ``maximumBytes`` by default; a record larger
    /// than this is not cached at all.
    public let maximumBytesPerSource: Int
    /// The records held now, by identity (name, type, class, data).
    public private(set) var entries: [RecordKey: Entry] = [:]
    /// Bytes the cached records take, as counted for the bound (their size on the wire, plus bookkeeping).
    public private(set) var bytes = 0
    /// What was pushed out or refused, by reason.
    public private(set) var counters = Counters()
    /// Every record's expiry, soonest first. An entry whose record has since been refreshed, flushed or
    /// removed is stale and skipped when it comes up; the heap is rebuilt when stale ones outnumber the rest.
    private var expiries = DeadlineHeap<MonotonicInstant, UInt64>()
    /// The key of each record held, by its entry's serial.
    private var keys: [UInt64: RecordKey] = [:]
    /// The serial the next new record gets.
    private var nextSerial: UInt64 = 1
    /// The records of each name, type and class, for cache-flush.
    private var rrsets: [RRSetKey: RRSet] = [:]
    /// What each source address holds, for its quota and its record heard least recently.
    private var sources: [IPAddress?: SourceState] = [:]
    /// The sources by their share of the cache, largest first (keyed by the negated share): stale entries are
    /// skipped as in ``expiries``.
    private var shares = DeadlineHeap<Int, IPAddress?>()

    /// One source's holding.
    private struct SourceState: Sendable {
        var records = 0
        var bytes = 0
        /// Its records by when they were last heard, least recently first; stale entries (a record heard again
        /// since, or gone) are skipped as in ``MDNSCache/expiries``. Least recently heard rather than soonest
        /// to expire: a host that floods from the address a real service uses then pushes out its own old
        /// records, not the short-lived SRV and address records the service has just sent.
        var heard = DeadlineHeap<MonotonicInstant, UInt64>()
    }

    /// One record set's members, and when a cache flush last walked them.
    private struct RRSet: Sendable {
        var members: Set<RecordKey> = []
        var flushedAt: MonotonicInstant?
    }

    /// An empty cache with these bounds: by default 4096 records and 1 MiB, an eighth of each per source.
    ///
    /// - Parameters:
    ///   - maximumRecords: The most records held at once; more than 0.
    ///   - maximumBytes: The most bytes they may take together; more than 0.
    ///   - maximumRecordsPerSource: The most records held for one source address; nil for an eighth of
    ///     `maximumRecords` (at least 1).
    ///   - maximumBytesPerSource: The most bytes held for one source address; nil for an eighth of
    ///     `maximumBytes` (at least 1).
    public init(
        maximumRecords: Int = 4096,
        maximumBytes: Int = 1 << 20,
        maximumRecordsPerSource: Int? = nil,
        maximumBytesPerSource: Int? = nil
    ) {
        precondition(maximumRecords > 0 && maximumBytes > 0, "a cache needs room")
        self.maximumRecords = maximumRecords
        self.maximumBytes = maximumBytes
        self.maximumRecordsPerSource = min(max(1, maximumRecordsPerSource ?? maximumRecords / 8), maximumRecords)
        self.maximumBytesPerSource = min(max(1, maximumBytesPerSource ?? maximumBytes / 8), maximumBytes)
    }

    /// Takes in the records of a response heard at `now` from `source`.
    ///
    /// - Parameters:
    ///   - records: The response's answers and additionals.
    ///   - source: The sender's address, whose quota new records count against; nil puts them all on one
    ///     quota of their own.
    ///   - now: When the response arrived.
    /// - Returns: The records that came or went.
    public mutating func insert(
        _ records: [DNSRecord],
        from source: IPAddress? = nil,
        at now: MonotonicInstant
    ) -> [Change] {
        var changes: [Change] = []
        for received in records {
            let flushes = received.rawClass & 0x8000 != 0
            var record = received
            record.rawClass &= 0x7FFF
            let key = RecordKey(record)
            if flushes { flush(key.set, except: key, at: now) }
            if record.ttl == 0 {
                // A goodbye: only for what is held, and then for one second more.
                if let entry = entries[key] { setExpiry(of: key, to: min(entry.expiresAt, now + Self.second)) }
                continue
            }
            let expiresAt = now + .seconds(record.ttl)
            if let known = entries[key] {
                entries[key] = Entry(
                    record: record,
                    receivedAt: now,
                    expiresAt: expiresAt,
                    source: known.source,
                    serial: known.serial
                )
                schedule(known.serial, at: expiresAt)
                noteHeard(known.serial, of: known.source, at: now)
                continue
            }
            let size = Self.size(of: record)
            guard size <= maximumBytesPerSource else {
                counters.refusedTooLarge += 1
                continue
            }
            // The source's own quota first: a flooder displaces its own records.
            // Only the counts are read: a copy of the source's state held across the eviction would make it copy
            // its whole heap, a cost that grows with the quota.
            while let (records, held) = sources[source].map({ ($0.records, $0.bytes) }),
                records >= maximumRecordsPerSource || held + size > maximumBytesPerSource
            {
                guard let removed = evictLeastRecentlyHeard(of: source) else { break }
                counters.evictedBySourceQuota += 1
                changes.append(.removed(removed))
            }
            while entries.count >= maximumRecords || bytes + size > maximumBytes {
                guard let largest = largestSource(), let removed = evictLeastRecentlyHeard(of: largest) else {
                    break
                }
                counters.evictedWhenFull += 1
                changes.append(.removed(removed))
            }
            let serial = nextSerial
            nextSerial += 1
            entries[key] = Entry(record: record, receivedAt: now, expiresAt: expiresAt, source: source, serial: serial)
            keys[serial] = key
            rrsets[key.set, default: RRSet()].members.insert(key)
            bytes += size
            account(source, records: 1, bytes: size)
            schedule(serial, at: expiresAt)
            noteHeard(serial, of: source, at: now)
            changes.append(.added(record))
        }
        dropStaleExpiries()
        return changes
    }

    /// Ends, a second from `now`, the records of `set` other than `key` heard over a second ago (§10.2).
    ///
    /// A set walked less than a second ago is not walked again: what it would end now was heard in the second
    /// before that walk, and the next flush a second later ends it. So a flood of cache-flush records for one
    /// large set costs one walk a second, not one a record.
    private mutating func flush(_ set: RRSetKey, except key: RecordKey, at now: MonotonicInstant) {
        guard let members = rrsets[set], members.flushedAt.map({ now >= $0 + Self.second }) ?? true else { return }
        rrsets[set]?.flushedAt = now
        for other in members.members where other != key {
            guard let entry = entries[other], entry.receivedAt + Self.second < now else { continue }
            setExpiry(of: other, to: min(entry.expiresAt, now + Self.second))
        }
    }

    /// Removes every record whose time is up at `now`.
    public mutating func expire(now: MonotonicInstant) -> [Change] {
        var changes: [Change] = []
        while let (deadline, serial) = expiries.first, deadline <= now {
            _ = expiries.removeFirst()
            // Stale: the record was refreshed or flushed to another time, or is gone.
            guard let key = keys[serial], let entry = entries[key], entry.expiresAt == deadline else { continue }
            remove(key)
            changes.append(.removed(entry.record))
        }
        dropStaleExpiries()
        return changes
    }

    /// When the next record expires, for a caller that sleeps until then; nil when the cache is empty.
    public var nextExpiry: MonotonicInstant? { expiries.first?.deadline }

    /// Drops the stale entries at the top of the expiry heap, so that ``nextExpiry`` reads a live one: each
    /// mutating entry point ends with it, and only they make an entry stale.
    private mutating func dropStaleExpiries() {
        while let (deadline, serial) = expiries.first {
            if let key = keys[serial], let entry = entries[key], entry.expiresAt == deadline { return }
            _ = expiries.removeFirst()
        }
    }

    /// The records held for `name` and `type` (any type for `.any`, which looks at every record), class IN,
    /// the most recently heard first.
    public func records(named name: DNSName, type: DNSRecordType) -> [DNSRecord] {
        held(named: name, type: type).sorted { $0.receivedAt > $1.receivedAt }.map(\.record)
    }

    /// The entries of `name` and `type` (every entry of the name for `.any`), class IN.
    private func held(named name: DNSName, type: DNSRecordType) -> [Entry] {
        if type == .any { return entries.values.filter { $0.record.name == name } }
        let set = RRSetKey(name: name, type: type, rawClass: DNSMessage.classInternet)
        return (rrsets[set]?.members ?? []).compactMap { entries[$0] }
    }

    /// The answers a query for `question` lists as already known (§7.1): those held with more than half their
    /// TTL left at `now`, each with its remaining TTL, so responders need not send them again.
    public func knownAnswers(for question: DNSQuestion, at now: MonotonicInstant) -> [DNSRecord] {
        held(named: question.name, type: question.type).compactMap { entry in
            guard entry.expiresAt > now else { return nil }
            let left = entry.expiresAt.nanoseconds - now.nanoseconds
            guard left * 2 > UInt64(entry.record.ttl) * 1_000_000_000 else { return nil }
            var record = entry.record
            record.ttl = UInt32(left / 1_000_000_000)
            return record
        }
    }

    /// The source holding the largest share of the cache (records or bytes, whichever is the larger fraction of
    /// its bound).
    private mutating func largestSource() -> IPAddress?? {
        while let (negated, source) = shares.first {
            if let held = sources[source], share(held) == -negated { return .some(source) }
            _ = shares.removeFirst()
        }
        return nil
    }

    /// A source's share, comparable across sources: records and bytes each scaled by the other's bound.
    private func share(_ held: SourceState) -> Int {
        max(held.records * maximumBytes, held.bytes * maximumRecords)
    }

    /// Adds `records` and `bytes` (negative to subtract) to what `source` holds.
    private mutating func account(_ source: IPAddress?, records: Int, bytes: Int) {
        var held = sources[source] ?? SourceState()
        held.records += records
        held.bytes += bytes
        guard held.records > 0 else {
            sources[source] = nil
            return
        }
        sources[source] = held
        shares.insert(source, at: -share(held))
        if shares.count > 2 * sources.count + 64 {
            shares = DeadlineHeap()
            for (source, held) in sources { shares.insert(source, at: -share(held)) }
        }
    }

    private mutating func evictLeastRecentlyHeard(of source: IPAddress?) -> DNSRecord? {
        // Taken out while its heap changes, so that the heap is not copied.
        guard var held = sources.removeValue(forKey: source) else { return nil }
        var evicted: (key: RecordKey, entry: Entry)?
        while let (heard, serial) = held.heard.removeFirst() {
            guard let key = keys[serial], let entry = entries[key], entry.source == source, entry.receivedAt == heard
            else { continue }
            evicted = (key, entry)
            break
        }
        sources[source] = held
        guard let evicted else { return nil }
        remove(evicted.key)
        return evicted.entry.record
    }

    private mutating func setExpiry(of key: RecordKey, to deadline: MonotonicInstant) {
        guard let entry = entries[key], entry.expiresAt != deadline else { return }
        entries[key]?.expiresAt = deadline
        schedule(entry.serial, at: deadline)
    }

    /// Puts the record of `serial` in the expiry heap at `deadline`.
    private mutating func schedule(_ serial: UInt64, at deadline: MonotonicInstant) {
        expiries.insert(serial, at: deadline)
        // Each change leaves one stale heap entry behind: rebuild before they outnumber the live ones.
        if expiries.count > 2 * entries.count + 64 {
            expiries = DeadlineHeap()
            for entry in entries.values { expiries.insert(entry.serial, at: entry.expiresAt) }
        }
    }

    /// Records that the record of `serial`, on the quota of `source`, was heard at `now`, for that source's
    /// least-recently-heard order.
    private mutating func noteHeard(_ serial: UInt64, of source: IPAddress?, at now: MonotonicInstant) {
        guard var held = sources.removeValue(forKey: source) else { return }  // so the heap is not copied
        held.heard.insert(serial, at: now)
        if held.heard.count > 2 * held.records + 64 {
            // The heap holds every live record of the source: dropping the stale entries leaves exactly those.
            let (keys, entries) = (keys, entries)
            held.heard.removeAll { stamp in
                guard let key = keys[stamp.element], let entry = entries[key] else { return true }
                return entry.source != source || entry.receivedAt != stamp.deadline
            }
        }
        sources[source] = held
    }

    private mutating func remove(_ key: RecordKey) {
        guard let entry = entries.removeValue(forKey: key) else { return }
        keys[entry.serial] = nil
        let size = Self.size(of: entry.record)
        bytes -= size
        account(entry.source, records: -1, bytes: -size)
        let rrset = key.set
        rrsets[rrset]?.members.remove(key)
        if rrsets[rrset]?.members.isEmpty == true { rrsets[rrset] = nil }
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
