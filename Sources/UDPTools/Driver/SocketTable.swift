import UDP

/// The sockets a ``BatchDriver`` runs a machine on, numbered, which the engine may add to and close while it
/// runs: the relay's listening socket and its one socket per client. The driver watches whatever the table
/// holds at each wait; a machine knows its sockets by number only.
///
/// Not thread-safe: one run, on one thread, uses a table.
public final class SocketTable {
    private var sockets: [SharedUDPSocket?] = []
    /// Numbers of closed sockets, given again before new ones: the numbers stay dense, for arrays indexed by
    /// them.
    private var freeNumbers: [Int] = []
    /// Counts every change, so that a driver rebuilds its poll set only after one.
    private(set) var generation = 0

    /// An empty table.
    public init() {}

    /// Adds `socket` and returns its number.
    @discardableResult
    public func add(_ socket: consuming UDPSocket) -> Int {
        generation += 1
        let shared = SharedUDPSocket(socket)
        if let number = freeNumbers.popLast() {
            sockets[number] = shared
            return number
        }
        sockets.append(shared)
        return sockets.count - 1
    }

    /// Closes socket `number` (when nothing else holds it); its number may be given to a later socket.
    public func remove(_ number: Int) {
        guard sockets.indices.contains(number), sockets[number] != nil else { return }
        generation += 1
        sockets[number] = nil
        freeNumbers.append(number)
    }

    /// Socket `number`, or nil when there is none by that number.
    public subscript(number: Int) -> SharedUDPSocket? {
        sockets.indices.contains(number) ? sockets[number] : nil
    }

    /// The sockets open now, by number.
    public var count: Int { sockets.count - freeNumbers.count }

    /// Each open socket's number and descriptor, in number order.
    var descriptors: [(number: Int, descriptor: CInt)] {
        sockets.indices.compactMap { number in sockets[number].map { (number, $0.descriptor) } }
    }
}
