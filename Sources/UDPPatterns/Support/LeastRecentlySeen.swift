extension Dictionary {
    /// The `count` entries seen least recently, by `lastSeen`, oldest first.
    ///
    /// The one eviction rule of every bounded table in the project (listen's peers, echo's admitted sources,
    /// the relay's clients, the devices an SSDP search found): a flood of new keys pushes out the quiet ones.
    /// One entry costs a scan; more cost a sort, so tables evict an eighth of themselves at a time and pay
    /// O(n log n) once per n/8 new keys.
    public func leastRecentlySeen<Stamp: Comparable>(
        _ count: Int,
        lastSeen: (Value) -> Stamp
    ) -> [(key: Key, value: Value)] {
        guard count > 0 else { return [] }
        if count == 1 {
            return self.min { lastSeen($0.value) < lastSeen($1.value) }.map { [$0] } ?? []
        }
        return Array(sorted { lastSeen($0.value) < lastSeen($1.value) }.prefix(count))
    }

    /// Removes ``leastRecentlySeen(_:lastSeen:)``'s entries and returns them.
    @discardableResult
    public mutating func evictLeastRecentlySeen<Stamp: Comparable>(
        _ count: Int,
        lastSeen: (Value) -> Stamp
    ) -> [(key: Key, value: Value)] {
        let victims = leastRecentlySeen(count, lastSeen: lastSeen)
        for victim in victims { self[victim.key] = nil }
        return victims
    }
}
