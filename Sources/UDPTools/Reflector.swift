import UDP

/// The echo loop of `udp echo`: receive a batch (GRO trains included), answer every datagram to its own
/// sender, repeat until SIGINT/SIGTERM. Buffers are allocated once, before the loop.
///
/// Without a prefix the received batch goes straight back: each slot still holds its sender, and a train
/// goes back as one GSO send of the same segment size. With a prefix each datagram is copied behind the
/// prefix into a reply batch; a train's replies stay a train (segment size + prefix), split where one GSO
/// send would exceed the datagram limit.
struct Reflector: Sendable {
    let prefix: [UInt8]
    let verbose: Bool
    let format: PayloadFormat
    let batchSize: Int

    /// What a reflector did, summed over workers at exit.
    struct Counters: Sendable {
        /// Datagrams received (each datagram of a train counts).
        var received = 0
        /// Datagrams answered.
        var replied = 0
        /// Datagrams not answered: the reply would exceed the datagram limit, or the send failed.
        var failed = 0
        /// Datagrams that arrived truncated (never with the 64 KiB buffers used here).
        var truncated = 0

        static func + (lhs: Counters, rhs: Counters) -> Counters {
            Counters(
                received: lhs.received + rhs.received,
                replied: lhs.replied + rhs.replied,
                failed: lhs.failed + rhs.failed,
                truncated: lhs.truncated + rhs.truncated
            )
        }
    }

    /// The largest reply payload: the IPv4 limit, so a reply fits whichever family the peer uses.
    private static let replyLimit = AddressFamily.inet.maximumPayloadSize

    func serve(_ socket: borrowing UDPSocket) throws(UDPError) -> Counters {
        var counters = Counters()
        var incoming = DatagramBatch(capacity: batchSize)
        var replies = DatagramBatch(capacity: prefix.isEmpty ? 1 : batchSize)
        while !StopSignal.requested {
            let result = Result { () throws(UDPError) in try socket.receive(into: &incoming) }
            guard let count = try ignoringIdleWakeups(result) else { continue }
            for index in 0..<count {
                counters.received += incoming.segmentCount(at: index)
                if incoming.info(at: index).isTruncated { counters.truncated += 1 }
            }
            if verbose { report(incoming, count) }
            if prefix.isEmpty {
                sendAll(incoming, socket, &counters)
            } else {
                replies.removeAll()
                for index in 0..<count {
                    addPrefixedReplies(to: index, of: incoming, into: &replies, socket, &counters)
                }
                sendAll(replies, socket, &counters)
            }
        }
        return counters
    }

    private func report(_ batch: borrowing DatagramBatch, _ count: Int) {
        for index in 0..<count {
            let info = batch.info(at: index)
            for segment in 0..<batch.segmentCount(at: index) {
                var line = "from \(info.sender.unmapped): \(format.singleLine(batch.segment(segment, at: index)))"
                if info.isTruncated { line += " (truncated: \(info.length) bytes)" }
                Console.line(line)
            }
        }
    }

    /// Queues the prefixed replies to slot `index` (a datagram or a train), sending `replies` first when full.
    private func addPrefixedReplies(
        to index: Int,
        of incoming: borrowing DatagramBatch,
        into replies: inout DatagramBatch,
        _ socket: borrowing UDPSocket,
        _ counters: inout Counters
    ) {
        let segments = incoming.segmentCount(at: index)
        let longest = (incoming.segmentSize(at: index) ?? incoming.payload(at: index).count) + prefix.count
        guard longest <= Self.replyLimit else {
            counters.failed += segments
            if verbose {
                Console.error(
                    "udp: reply to \(incoming.peer(at: index).unmapped) would exceed the datagram limit; dropped"
                )
            }
            return
        }
        // A train's replies stay a train; one GSO send carries at most 64 datagrams and 65507 bytes.
        let perSend = min(DatagramBatch.maximumSegments, Self.replyLimit / longest)
        var next = 0
        while next < segments {
            let take = min(perSend, segments - next)
            if replies.count == replies.capacity {
                sendAll(replies, socket, &counters)
                replies.removeAll()
            }
            let first = next
            let prefix = self.prefix
            replies.appendReply(to: index, of: incoming, segmentSize: take > 1 ? longest : nil) { buffer in
                var offset = 0
                for segment in first..<first + take {
                    let bytes = incoming.segment(segment, at: index)
                    UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]).copyBytes(from: prefix)
                    UnsafeMutableRawBufferPointer(rebasing: buffer[(offset + prefix.count)...]).copyMemory(from: bytes)
                    offset += prefix.count + bytes.count
                }
                return offset
            }
            next += take
        }
    }

    /// Sends every slot of `batch`; one that fails (a peer gone, a full queue) is counted and skipped.
    private func sendAll(_ batch: borrowing DatagramBatch, _ socket: borrowing UDPSocket, _ counters: inout Counters) {
        var next = 0
        while next < batch.count {
            do {
                let sent = try socket.send(batch, startingAt: next)
                for slot in next..<next + sent { counters.replied += batch.segmentCount(at: slot) }
                next += sent
            } catch {
                counters.failed += batch.segmentCount(at: next)
                if verbose { Console.error("udp: \(error)") }
                next += 1
            }
        }
    }
}
