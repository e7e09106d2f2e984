/// A binary min-heap of (deadline, key): the client's timers, so finding the next one to fire costs
/// O(1) and adding one O(log n), however many requests are outstanding.
///
/// Entries are not removed from the middle when their key moves on (answered, cancelled, given a later
/// deadline): the owner skips such stale entries when they reach the top, and calls ``removeAll(where:)``
/// when they outnumber the live ones, which keeps the heap's size proportional to the live keys at O(1)
/// amortised cost.
struct DeadlineHeap<Key: Sendable>: Sendable {
    typealias Entry = (deadline: ContinuousClock.Instant, key: Key)

    private var entries: [Entry] = []

    var count: Int { entries.count }
    var first: Entry? { entries.first }

    mutating func insert(_ deadline: ContinuousClock.Instant, _ key: Key) {
        entries.append((deadline, key))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeFirst() -> Entry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let first = entries.removeLast()
        siftDown(0)
        return first
    }

    /// Drops the entries `shouldRemove` picks and restores the heap order: O(n).
    mutating func removeAll(where shouldRemove: (Entry) -> Bool) {
        entries.removeAll(where: shouldRemove)
        for index in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count && entries[left].deadline < entries[smallest].deadline { smallest = left }
            if right < entries.count && entries[right].deadline < entries[smallest].deadline { smallest = right }
            guard smallest != parent else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
