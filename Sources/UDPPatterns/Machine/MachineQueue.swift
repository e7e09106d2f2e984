/// The first-in, first-out queue a machine keeps what it has for its driver in — datagrams to send, events —
/// until ``poll()`` takes them: each poll costs O(1) (an array's `removeFirst()` would move every element left
/// behind), the storage is kept once the queue empties, and a ``limit`` bounds what a peer can make it hold,
/// counting in ``dropped`` what it refused.
///
/// ```swift
/// var events = MachineQueue<Event>(limit: 64)
/// events.append(.appeared(instance))   // false, and counted, when 64 wait already
/// while let event = events.poll() { … }
/// ```
///
/// Its methods are inlinable, so that a machine in another module polls a queue of its own element type with
/// specialised code: an engine that polls after every batch pays a compare, not a generic call.
public struct MachineQueue<Element> {
    @usableFromInline var elements: [Element] = []
    @usableFromInline var head = 0
    /// The most elements it holds; nil for no bound (for what the machine itself bounds).
    public let limit: Int?
    /// Elements refused because ``limit`` were waiting.
    public private(set) var dropped = 0

    /// An empty queue that holds at most `limit` elements.
    public init(limit: Int? = nil) {
        precondition(limit.map { $0 > 0 } ?? true, "a queue must hold something")
        self.limit = limit
    }

    /// The elements waiting.
    @inlinable
    public var count: Int { elements.count - head }

    /// Whether nothing waits.
    @inlinable
    public var isEmpty: Bool { head == elements.count }

    /// Adds `element` at the end, unless ``limit`` elements wait: then it is dropped and counted.
    ///
    /// - Returns: Whether it was added.
    @discardableResult
    @inlinable
    public mutating func append(_ element: Element) -> Bool {
        if let limit, count >= limit {
            countDrop()
            return false
        }
        elements.append(element)
        return true
    }

    @usableFromInline
    mutating func countDrop() { dropped += 1 }

    /// Adds each of `newElements` in order, as ``append(_:)`` adds one.
    @inlinable
    public mutating func append(contentsOf newElements: some Sequence<Element>) {
        for element in newElements { append(element) }
    }

    /// Takes the oldest element; nil when none waits.
    @inlinable
    public mutating func poll() -> Element? {
        guard head < elements.count else { return nil }
        let element = elements[head]
        head += 1
        if head == elements.count {
            elements.removeAll(keepingCapacity: true)
            head = 0
        }
        return element
    }

    /// Drops everything waiting (not counted in ``dropped``).
    @inlinable
    public mutating func removeAll() {
        elements.removeAll(keepingCapacity: true)
        head = 0
    }

    /// Drops the waiting elements that `shouldBeRemoved` picks, keeping the others in order (not counted in
    /// ``dropped``): for a machine that sweeps out entries gone stale while they waited.
    @inlinable
    public mutating func removeAll(where shouldBeRemoved: (Element) throws -> Bool) rethrows {
        elements.removeSubrange(..<head)
        head = 0
        try elements.removeAll(where: shouldBeRemoved)
    }
}

extension MachineQueue: Sendable where Element: Sendable {}
