/// A binary min-heap of elements by deadline: timers, so finding the next one to fire costs O(1) and adding
/// one O(log n), however many are outstanding. Elements with equal deadlines come out in the order they went
/// in, so a relay without delay keeps the order of what it forwards.
///
/// Entries are not removed from the middle when their owner moves on (answered, cancelled, given a later
/// deadline): the owner skips such stale entries when they reach the top, and calls ``removeAll(where:)``
/// when they outnumber the live ones, which keeps the heap's size proportional to the live ones at O(1)
/// amortised cost.
///
/// ```swift
/// var timers = DeadlineHeap<UInt64, String>()
/// timers.insert("b", at: 20)
/// timers.insert("a", at: 10)
/// timers.popFirst(dueAt: 15)  // "a"
/// ```
public struct DeadlineHeap<Deadline: Comparable, Element> {
    /// One timer.
    public typealias Entry = (deadline: Deadline, element: Element)

    // Inlinable, so each user specialises the heap for its types: unspecialised generic code across a module
    // boundary would box values and allocate on a relay's per-datagram path.
    @usableFromInline var entries: [(deadline: Deadline, order: UInt64, element: Element)] = []
    @usableFromInline var nextOrder: UInt64 = 0

    /// An empty heap.
    @inlinable public init() {}

    /// Timers held, stale ones included.
    @inlinable public var count: Int { entries.count }
    /// Whether it holds no timers, stale or live.
    @inlinable public var isEmpty: Bool { entries.isEmpty }
    /// The earliest timer.
    @inlinable public var first: Entry? { entries.first.map { ($0.deadline, $0.element) } }

    /// Adds `element`, due at `deadline`.
    @inlinable public mutating func insert(_ element: Element, at deadline: Deadline) {
        entries.append((deadline, nextOrder, element))
        nextOrder &+= 1
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(child, parent) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest timer.
    @inlinable @discardableResult
    public mutating func removeFirst() -> Entry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let first = entries.removeLast()
        siftDown(0)
        return (first.deadline, first.element)
    }

    /// Removes and returns the earliest timer's element if it is due at `now`.
    @inlinable public mutating func popFirst(dueAt now: Deadline) -> Element? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        return removeFirst()?.element
    }

    /// Drops the entries `shouldRemove` picks and restores the heap order: O(n).
    @inlinable public mutating func removeAll(where shouldRemove: (Entry) -> Bool) {
        entries.removeAll { shouldRemove(($0.deadline, $0.element)) }
        for index in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    @inlinable func precedes(_ a: Int, _ b: Int) -> Bool {
        entries[a].deadline < entries[b].deadline
            || (entries[a].deadline == entries[b].deadline && entries[a].order < entries[b].order)
    }

    @inlinable mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count && precedes(left, smallest) { smallest = left }
            if right < entries.count && precedes(right, smallest) { smallest = right }
            guard smallest != parent else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

extension DeadlineHeap: Sendable where Deadline: Sendable, Element: Sendable {}
