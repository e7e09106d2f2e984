import UDP

/// The replies a server sent recently, keyed by (peer, request id): a retried request whose reply was
/// lost gets the same reply again instead of running its handler twice. Sans-I/O; the caller passes `now`, a
/// `MonotonicInstant`.
///
/// ```swift
/// if let reply = cache.lookup(sender, id, now: now) { return reply }   // a retry: answer from the cache
/// let reply = try handle(request)                                     // runs once per (sender, id)
/// cache.store(reply, for: sender, id, now: now)
/// ```
///
/// An entry lives for `timeToLive` after it was stored, which should be at least as long as clients keep
/// retrying (the sum of their waits, or their deadline); a retry after that runs the handler again. At most
/// `capacity` entries and `maximumBytes` bytes of replies are kept, and a full cache forgets the least recently
/// used entry first, so a flood of requests from forged addresses costs bounded memory (and can only push out
/// entries, never grow the cache). Both bounds matter: 4096 replies of 64 KiB would be 256 MiB.
///
/// `Peer` is whatever identifies a client: `SocketAddress` for a real server, a string in tests.
public struct ReplyCache<Peer: Hashable & Sendable>: Sendable {
    /// What the cache has done.
    public struct Counters: Sendable, Hashable {
        /// Lookups that found a reply.
        public var hits = 0
        /// Lookups that found none.
        public var misses = 0
        /// Entries pushed out by newer ones when full.
        public var evicted = 0
        /// Entries dropped because their time to live passed.
        public var expired = 0
        /// Replies not stored because one alone is larger than `maximumBytes`.
        public var tooLarge = 0

        /// All zero.
        public init() {}
    }

    private struct Key: Hashable, Sendable {
        var peer: Peer
        var id: RequestID
    }

    // The entries live in a slab; two doubly linked lists run through it by index: recency of use (for
    // LRU eviction) and order of storing (for expiry, which with one time to live is the same as age).
    private struct Node: Sendable {
        var key: Key
        var reply: [UInt8]
        var stored: MonotonicInstant
        var newer = Self.none
        var older = Self.none
        var storedAfter = Self.none
        var storedBefore = Self.none
        static var none: Int { -1 }
    }

    /// How long an entry lives after it is stored.
    public let timeToLive: Duration
    /// The most entries kept.
    public let capacity: Int
    /// The most bytes of replies kept, all entries together.
    public let maximumBytes: Int
    /// Bytes of replies held now.
    public private(set) var bytes = 0
    /// What the cache has done so far.
    public private(set) var counters = Counters()

    private var index: [Key: Int] = [:]
    private var nodes: [Node] = []
    private var freeNodes: [Int] = []
    private var mostRecent = Node.none
    private var leastRecent = Node.none
    private var newestStored = Node.none
    private var oldestStored = Node.none

    /// Creates an empty cache.
    ///
    /// - Parameters:
    ///   - timeToLive: How long a reply is kept: at least the longest a client keeps retrying.
    ///   - capacity: The most replies kept (at least 1).
    ///   - maximumBytes: The most bytes of replies kept (16 MiB by default).
    public init(timeToLive: Duration, capacity: Int, maximumBytes: Int = 16 << 20) {
        precondition(capacity >= 1, "a reply cache needs room for at least 1 reply")
        precondition(maximumBytes >= 1, "a reply cache needs room for at least 1 byte")
        self.timeToLive = timeToLive
        self.capacity = capacity
        self.maximumBytes = maximumBytes
    }

    /// Replies held, expired ones included until the next call that takes `now`.
    public var count: Int { index.count }

    /// When the oldest entry expires; nil when empty. Calling ``removeExpired(now:)`` then frees its memory
    /// early; lookups and stores expire entries anyway.
    public var nextDeadline: MonotonicInstant? {
        oldestStored == Node.none ? nil : nodes[oldestStored].stored + timeToLive
    }

    /// The reply stored for `id` from `peer`, if it has not expired; a hit makes the entry the most
    /// recently used.
    public mutating func lookup(_ peer: Peer, _ id: RequestID, now: MonotonicInstant) -> [UInt8]? {
        removeExpired(now: now)
        guard let node = index[Key(peer: peer, id: id)] else {
            counters.misses += 1
            return nil
        }
        counters.hits += 1
        unlinkRecency(node)
        linkMostRecent(node)
        return nodes[node].reply
    }

    /// Stores the reply sent for `id` from `peer`, replacing any earlier one, and restarting its time to live.
    /// A full cache first forgets its least recently used entries; a reply larger than `maximumBytes` on its
    /// own is not stored (a retry of its request runs the handler again) and is counted.
    public mutating func store(_ reply: [UInt8], for peer: Peer, _ id: RequestID, now: MonotonicInstant) {
        removeExpired(now: now)
        let key = Key(peer: peer, id: id)
        if let old = index[key] { remove(old) }
        guard reply.count <= maximumBytes else {
            counters.tooLarge += 1
            return
        }
        while index.count == capacity || bytes + reply.count > maximumBytes {
            counters.evicted += 1
            remove(leastRecent)
        }
        let fresh = Node(key: key, reply: reply, stored: now)
        let node: Int
        if let reused = freeNodes.popLast() {
            node = reused
            nodes[node] = fresh
        } else {
            node = nodes.count
            nodes.append(fresh)
        }
        index[key] = node
        bytes += reply.count
        linkMostRecent(node)
        linkNewestStored(node)
    }

    /// Drops every entry whose time to live has passed by `now`.
    public mutating func removeExpired(now: MonotonicInstant) {
        while oldestStored != Node.none && nodes[oldestStored].stored + timeToLive <= now {
            counters.expired += 1
            remove(oldestStored)
        }
    }

    // MARK: - The lists

    private mutating func remove(_ node: Int) {
        unlinkRecency(node)
        unlinkStorage(node)
        index[nodes[node].key] = nil
        bytes -= nodes[node].reply.count
        nodes[node].reply = []  // free the bytes now, not when the slot is reused
        freeNodes.append(node)
    }

    private mutating func linkMostRecent(_ node: Int) {
        nodes[node].older = mostRecent
        nodes[node].newer = Node.none
        if mostRecent != Node.none { nodes[mostRecent].newer = node } else { leastRecent = node }
        mostRecent = node
    }

    private mutating func unlinkRecency(_ node: Int) {
        let (newer, older) = (nodes[node].newer, nodes[node].older)
        if newer != Node.none { nodes[newer].older = older } else { mostRecent = older }
        if older != Node.none { nodes[older].newer = newer } else { leastRecent = newer }
    }

    private mutating func linkNewestStored(_ node: Int) {
        nodes[node].storedBefore = newestStored
        nodes[node].storedAfter = Node.none
        if newestStored != Node.none { nodes[newestStored].storedAfter = node } else { oldestStored = node }
        newestStored = node
    }

    private mutating func unlinkStorage(_ node: Int) {
        let (after, before) = (nodes[node].storedAfter, nodes[node].storedBefore)
        if after != Node.none { nodes[after].storedBefore = before } else { newestStored = before }
        if before != Node.none { nodes[before].storedAfter = after } else { oldestStored = after }
    }
}
