import UDP
import UDPPatterns

/// Per-peer counters with a bound on the number of peers kept, so a flood of (possibly forged) source
/// addresses cannot exhaust memory: past the bound, the least recently seen peers are evicted and their counts
/// move to ``evicted`` (how many: ``evictedPeers``). An entry has a fixed size (an address stored inline and
/// four integers, under 100 bytes with the dictionary's own), whatever the peer sends, so ``capacity`` bounds
/// the table's bytes as well as its entries.
public struct PeerTable: Sendable {
    /// One peer's traffic.
    public struct Entry: Sendable, Equatable {
        /// Datagrams received from the peer.
        public var datagrams = 0
        /// Their bytes (real lengths, truncated ones included).
        public var bytes = 0
        /// When it was last and first seen, as counts of datagrams recorded by the table.
        var lastSeen = 0
        var firstSeen = 0
    }

    /// The most peers tracked at once.
    public let capacity: Int
    /// The peers tracked now.
    public private(set) var entries: [SocketAddress: Entry] = [:]
    /// Totals of peers evicted to stay within ``capacity``.
    public private(set) var evicted = Entry()
    /// How many peers were evicted.
    public private(set) var evictedPeers = 0
    private var clock = 0

    /// - Parameter capacity: The most peers tracked at once; at least 1.
    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Counts one datagram of `bytes` from `peer`, and returns that peer's running count.
    public mutating func record(_ peer: SocketAddress, bytes: Int) -> Int {
        clock += 1
        if entries[peer] == nil, entries.count >= capacity { evictOldest() }
        var entry = entries[peer] ?? Entry(firstSeen: clock)
        entry.datagrams += 1
        entry.bytes += bytes
        entry.lastSeen = clock
        entries[peer] = entry
        return entry.datagrams
    }

    /// Evicts the least recently seen eighth at once, so a flood of new peers costs O(log n) each, amortised,
    /// instead of a scan per datagram.
    private mutating func evictOldest() {
        for (_, entry) in entries.evictLeastRecentlySeen(max(1, capacity / 8), lastSeen: \.lastSeen) {
            evicted.datagrams += entry.datagrams
            evicted.bytes += entry.bytes
            evictedPeers += 1
        }
    }

    /// Datagrams from every peer, evicted ones included.
    public var totalDatagrams: Int { entries.values.reduce(evicted.datagrams) { $0 + $1.datagrams } }

    /// Peers in the order they were first seen.
    public var peersInOrder: [(peer: SocketAddress, entry: Entry)] {
        entries.map { ($0.key, $0.value) }.sorted { $0.entry.firstSeen < $1.entry.firstSeen }
    }
}
