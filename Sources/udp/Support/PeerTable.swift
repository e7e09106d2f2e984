import UDP

/// Per-peer counters with a bound on the number of peers kept, so a flood of (possibly forged) source
/// addresses cannot exhaust memory: past the bound, the least recently seen peers are evicted and their counts
/// move to ``evicted``.
struct PeerTable {
    struct Entry {
        var datagrams = 0
        var bytes = 0
        var lastSeen = 0
        var firstSeen = 0
    }

    /// The most peers tracked at once.
    let capacity: Int
    private(set) var entries: [SocketAddress: Entry] = [:]
    /// Totals of peers evicted to stay within ``capacity``.
    private(set) var evicted = Entry()
    private(set) var evictedPeers = 0
    private var clock = 0

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Counts one datagram of `bytes` from `peer`, and returns that peer's running count.
    mutating func record(_ peer: SocketAddress, bytes: Int) -> Int {
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
        let victims = entries.sorted { $0.value.lastSeen < $1.value.lastSeen }.prefix(max(1, capacity / 8))
        for (peer, entry) in victims {
            evicted.datagrams += entry.datagrams
            evicted.bytes += entry.bytes
            evictedPeers += 1
            entries[peer] = nil
        }
    }

    var totalDatagrams: Int { entries.values.reduce(evicted.datagrams) { $0 + $1.datagrams } }

    /// Peers in the order they were first seen.
    var peersInOrder: [(peer: SocketAddress, entry: Entry)] {
        entries.map { ($0.key, $0.value) }.sorted { $0.entry.firstSeen < $1.entry.firstSeen }
    }
}
