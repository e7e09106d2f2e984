import UDP

/// Pairs the kernel's send stamp of each probe with the kernel's receive stamp of its reply: the round trip
/// without the time the sender's and receiver's threads took to be scheduled.
///
/// The socket numbers its sent datagrams from 0 (`SendTimestamp.id`, `SendReport.sent`'s `stampID`);
/// ``sent(sequence:stampID:)`` tells which probe each number is. Both stamps are wall-clock times, so a clock
/// step between them can make the interval negative: ``roundTrip(sequence:receivedAt:)`` reports that as
/// `.clockStep`, never as a figure.
struct KernelRoundTrips {
    enum Sample: Equatable {
        case roundTrip(UInt64)
        /// The reply was stamped before the probe: the wall clock stepped back in between.
        case clockStep
        /// No send stamp for that probe (not yet read, or the kernel gave none).
        case missing
    }

    private struct Entry {
        var sequence: UInt64 = 0
        var sentAt: UInt64?
    }

    /// Send-stamp numbers to probe sequence numbers, and each probe's send stamp, by probe number modulo
    /// the capacity.
    private var sequencesByNumber: [UInt64]
    private var entries: [Entry]
    private var nextNumber: UInt32 = 0

    /// - Parameter capacity: At least the most probes in flight at once.
    init(capacity: Int) {
        sequencesByNumber = Array(repeating: 0, count: capacity)
        entries = Array(repeating: Entry(), count: capacity)
    }

    /// The next datagram the socket sent was probe `sequence`.
    mutating func sent(sequence: UInt64) {
        sent(sequence: sequence, stampID: nextNumber)
    }

    /// The socket sent probe `sequence` as its datagram number `stampID` (`SendReport.sent`'s, the number
    /// its send stamp will carry).
    mutating func sent(sequence: UInt64, stampID: UInt32) {
        sequencesByNumber[Int(stampID) % sequencesByNumber.count] = sequence
        entries[Int(sequence % UInt64(entries.count))] = Entry(sequence: sequence, sentAt: nil)
        nextNumber = stampID &+ 1
    }

    /// Records a send stamp read from the error queue; one for a number long gone is ignored.
    mutating func record(_ stamp: SendTimestamp) {
        guard nextNumber &- stamp.id <= UInt32(sequencesByNumber.count), stamp.id != nextNumber else { return }
        let sequence = sequencesByNumber[Int(stamp.id) % sequencesByNumber.count]
        let index = Int(sequence % UInt64(entries.count))
        guard entries[index].sequence == sequence else { return }
        entries[index].sentAt = stamp.time.nanosecondsSince1970
    }

    /// The round trip of probe `sequence`, whose reply the kernel stamped at `receivedAt`.
    func roundTrip(sequence: UInt64, receivedAt: UInt64) -> Sample {
        let entry = entries[Int(sequence % UInt64(entries.count))]
        guard entry.sequence == sequence, let sentAt = entry.sentAt else { return .missing }
        guard receivedAt >= sentAt else { return .clockStep }
        return .roundTrip(receivedAt - sentAt)
    }
}
