import UDP
import UDPPatterns

/// Keeps the devices and services that SSDP responses and `NOTIFY`s describe (UPnP Device Architecture 1.1
/// §1.2-1.3), without a socket or a clock: one entry per unique service name (`USN`), so the repeats that
/// searches and announcements bring are merged.
///
/// An advertisement *appears* the first time its USN is heard, and is *removed* by its `ssdp:byebye` or when its
/// `CACHE-CONTROL: max-age` runs out unrefreshed. One that comes back with another `LOCATION` (a device that
/// restarted on a new address) is removed and appears again, so a listener never keeps a stale URL.
///
/// The table is bounded in entries (``capacity``, 1024 by default) and in bytes (``maximumBytes``, 1 MiB by
/// default, as ``size(of:)`` counts them): a flood of forged USNs pushes out the advertisements heard least
/// recently, each counted in ``evicted``, never the memory limit. An advertisement larger than the whole byte
/// bound is not kept, and counted in ``refused``. The parser bounds each field first: no line over 2048 bytes.
///
/// ```swift
/// var browser = SSDPBrowser(target: "upnp:rootdevice")
/// for event in browser.receive(try SSDPMessage(parsing: datagram), at: now) { print(event) }
/// for event in browser.expire(now: later) { print(event) }
/// ```
public struct SSDPBrowser: Sendable {
    /// What happened to an advertisement.
    public enum Event: Hashable, Sendable {
        /// An advertisement heard for the first time, or again with a new `LOCATION`.
        case appeared(SSDPAdvertisement)
        /// An advertisement gone: by its `ssdp:byebye`, by its `max-age` running out, by a new `LOCATION` (an
        /// `appeared` follows), or pushed out because the table was full.
        case removed(SSDPAdvertisement)
    }

    /// How long an advertisement without `max-age` is kept: the specification's least allowed value.
    public static let defaultMaximumAge = 1_800
    /// The most advertisements kept.
    public static let defaultCapacity = 1_024
    /// The most bytes the advertisements kept may take: 1 MiB.
    public static let defaultMaximumBytes = 1 << 20

    private struct Entry: Sendable {
        var advertisement: SSDPAdvertisement
        var expiry: MonotonicInstant
        var lastSeen: MonotonicInstant
    }

    /// The search target: `ssdp:all` keeps every advertisement, anything else only those for that target.
    public let target: String
    /// The most advertisements kept, at least 1. A new one that arrives when the table is full first pushes out
    /// the eighth of the table (one at least) heard least recently, each counted in ``evicted``.
    public let capacity: Int
    /// The most bytes the advertisements kept may take, as ``size(of:)`` counts them. A new one that would pass
    /// it first pushes out, an eighth of the table at a time, those heard least recently, each counted in
    /// ``evicted``.
    public let maximumBytes: Int
    private var entries: [String: Entry] = [:]
    /// Bytes the advertisements kept take, as ``size(of:)`` counts them.
    public private(set) var bytes = 0
    /// Advertisements pushed out to make room, in entries or in bytes.
    public private(set) var evicted = 0
    /// Advertisements not kept because they were larger than ``maximumBytes`` on their own.
    public private(set) var refused = 0

    /// - Parameters:
    ///   - target: `ssdp:all`, `upnp:rootdevice`, `uuid:…` or a device or service type URN.
    ///   - capacity: The most advertisements kept.
    ///   - maximumBytes: The most bytes they may take (``size(of:)``).
    public init(
        target: String = "ssdp:all",
        capacity: Int = Self.defaultCapacity,
        maximumBytes: Int = Self.defaultMaximumBytes
    ) {
        self.target = target
        self.capacity = max(1, capacity)
        self.maximumBytes = max(1, maximumBytes)
    }

    /// What an advertisement counts for against ``maximumBytes``: its strings' UTF-8 bytes, and 64 of
    /// bookkeeping.
    public static func size(of advertisement: SSDPAdvertisement) -> Int {
        advertisement.uniqueServiceName.utf8.count + advertisement.target.utf8.count
            + (advertisement.location?.utf8.count ?? 0) + (advertisement.server?.utf8.count ?? 0) + 64
    }

    /// The advertisements known now, by USN.
    public var advertisements: [SSDPAdvertisement] {
        entries.values.map(\.advertisement).sorted { $0.uniqueServiceName < $1.uniqueServiceName }
    }

    /// When the next advertisement runs out.
    ///
    /// Kept as entries change, so that a driver that reads it after every datagram does not walk the table: only
    /// a change to the entry that runs out first walks it again.
    public private(set) var nextExpiry: MonotonicInstant?

    /// Takes in that an entry that ran out at `old` (nil for a new one) now runs out at `new` (nil when gone).
    private mutating func noteExpiry(from old: MonotonicInstant?, to new: MonotonicInstant?) {
        if let old, old == nextExpiry {
            nextExpiry = entries.values.lazy.map(\.expiry).min()
        } else if let new {
            nextExpiry = min(nextExpiry ?? new, new)
        }
    }

    /// Whether `advertised` answers this browser's target. URNs compare ignoring case, as their scheme does.
    public func wants(_ advertised: String) -> Bool {
        target.lowercased() == "ssdp:all" || advertised.lowercased() == target.lowercased()
    }

    /// Takes in a message heard at `now`; searches (from other control points) change nothing.
    public mutating func receive(_ message: SSDPMessage, at now: MonotonicInstant) -> [Event] {
        switch message {
        case .search:
            return []
        case .response(let advertisement), .notify(let advertisement, .alive), .notify(let advertisement, .update):
            guard wants(advertisement.target) else { return [] }
            return refresh(advertisement, at: now)
        case .notify(let advertisement, .byebye):
            guard let gone = remove(advertisement.uniqueServiceName) else { return [] }
            return [.removed(gone)]
        }
    }

    private mutating func refresh(_ advertisement: SSDPAdvertisement, at now: MonotonicInstant) -> [Event] {
        let age = advertisement.maximumAge ?? Self.defaultMaximumAge
        // At least a second: `max-age=0` would be a deadline due the instant it is set, which a driver would
        // wake for at once (the fuzz target found it); the device is still shown, and gone a second later.
        let expiry = now + .seconds(min(max(age, 1), 86_400))
        let key = advertisement.uniqueServiceName
        if var known = entries[key] {
            // An update (`ssdp:update`) or a byebye need not repeat the location: keep what is known.
            var merged = advertisement
            if merged.location == nil { merged.location = known.advertisement.location }
            if merged.server == nil { merged.server = known.advertisement.server }
            known.expiry = expiry
            known.lastSeen = now
            guard merged.location != known.advertisement.location else {
                known.advertisement.maximumAge = merged.maximumAge
                let old = entries[key]?.expiry
                entries[key] = known
                noteExpiry(from: old, to: expiry)
                return []
            }
            _ = remove(key)
            return [.removed(known.advertisement)] + add(merged, expiry: expiry, at: now)
        }
        guard advertisement.location != nil else { return [] }  // an update for a device never heard of
        return add(advertisement, expiry: expiry, at: now)
    }

    /// Keeps a new advertisement, pushing out those heard least recently while the table is full.
    private mutating func add(
        _ advertisement: SSDPAdvertisement,
        expiry: MonotonicInstant,
        at now: MonotonicInstant
    ) -> [Event] {
        let size = Self.size(of: advertisement)
        guard size <= maximumBytes else {
            refused += 1
            return []
        }
        var events: [Event] = []
        while !entries.isEmpty && (entries.count >= capacity || bytes + size > maximumBytes) {
            for victim in entries.evictLeastRecentlySeen(max(1, entries.count / 8), lastSeen: \.lastSeen) {
                noteExpiry(from: victim.value.expiry, to: nil)
                bytes -= Self.size(of: victim.value.advertisement)
                evicted += 1
                events.append(.removed(victim.value.advertisement))
            }
        }
        entries[advertisement.uniqueServiceName] = Entry(advertisement: advertisement, expiry: expiry, lastSeen: now)
        noteExpiry(from: nil, to: expiry)
        bytes += size
        events.append(.appeared(advertisement))
        return events
    }

    private mutating func remove(_ key: String) -> SSDPAdvertisement? {
        guard let gone = entries.removeValue(forKey: key) else { return nil }
        noteExpiry(from: gone.expiry, to: nil)
        bytes -= Self.size(of: gone.advertisement)
        return gone.advertisement
    }

    /// Removes the advertisements whose `max-age` ran out by `now`.
    public mutating func expire(now: MonotonicInstant) -> [Event] {
        guard let next = nextExpiry, next <= now else { return [] }
        let gone = entries.filter { $0.value.expiry <= now }
        for key in gone.keys {
            if let entry = entries.removeValue(forKey: key) { bytes -= Self.size(of: entry.advertisement) }
        }
        nextExpiry = entries.values.lazy.map(\.expiry).min()  // one walk, however many ran out
        return gone.values.map(\.advertisement).sorted { $0.uniqueServiceName < $1.uniqueServiceName }
            .map { .removed($0) }
    }
}
