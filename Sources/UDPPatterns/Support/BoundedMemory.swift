/// A map that remembers at most `capacity` keys and forgets the oldest inserted first: how the client
/// remembers recently finished requests, so a reply that comes after its request ended is recognised
/// (duplicate or late) without letting memory grow with the number of requests ever made.
struct BoundedMemory<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    let capacity: Int
    private var values: [Key: Value] = [:]
    // Insertion order, as a ring: order[next] is the oldest once the ring is full.
    private var order: [Key] = []
    private var next = 0

    init(capacity: Int) {
        precondition(capacity >= 0)
        self.capacity = capacity
    }

    subscript(key: Key) -> Value? { values[key] }

    var count: Int { values.count }

    /// Remembers `value` for `key`, forgetting the oldest key when full. A key already remembered keeps its
    /// place in the order and takes the new value.
    mutating func insert(_ value: Value, for key: Key) {
        guard capacity > 0 else { return }
        if values.updateValue(value, forKey: key) != nil { return }
        if order.count < capacity {
            order.append(key)
        } else {
            values[order[next]] = nil
            order[next] = key
            next = (next + 1) % capacity
        }
    }
}
