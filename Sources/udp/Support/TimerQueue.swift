/// A min-heap of elements due at a time (monotonic nanoseconds); elements due at the same time come out in
/// the order they went in, so a relay without delay keeps the order of what it forwards.
struct TimerQueue<Element> {
    private var heap: [(time: UInt64, order: UInt64, element: Element)] = []
    private var nextOrder: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    /// When the earliest element is due.
    var nextTime: UInt64? { heap.first?.time }

    mutating func insert(_ element: Element, at time: UInt64) {
        heap.append((time, nextOrder, element))
        nextOrder += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(child, parent) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest element if it is due at `now`.
    mutating func popDue(now: UInt64) -> Element? {
        guard let due = heap.first?.time, due <= now else { return nil }
        heap.swapAt(0, heap.count - 1)
        let element = heap.removeLast().element
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && precedes(left, smallest) { smallest = left }
            if right < heap.count && precedes(right, smallest) { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return element
    }

    private func precedes(_ a: Int, _ b: Int) -> Bool {
        (heap[a].time, heap[a].order) < (heap[b].time, heap[b].order)
    }
}
