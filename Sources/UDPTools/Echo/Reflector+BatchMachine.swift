import UDP
import UDPPatterns

extension Reflector: BatchMachine {
    /// What a reflector tells its owner.
    public enum Event: Sendable {
        /// The counters, every report interval (``Reflector/report(every:from:)``).
        case report(Counters)
        /// A datagram that could not be answered, and why (counted in ``Counters/failed`` too).
        case sendFailed(UDPError)
    }

    /// The batch requests are received into, allocated once.
    public mutating func withReceiveBatch<Result: ~Copyable, Failure: Error>(
        _ body: (inout DatagramBatch) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(&incoming)
    }

    /// Counts the ICMP error a reply drew, by kind; one without the error queue's detail concerns no datagram
    /// now queued, and is passed over.
    public mutating func handleDeliveryError(_ error: DeliveryError?, socket: Int, at now: MonotonicInstant) {
        guard let error else { return }
        let before = counters
        counters.icmpErrors.add(error.kind)
        metrics?.record(from: before, to: counters)
    }

    /// Gives the counters when a report is due.
    public mutating func handleTimeout(at now: MonotonicInstant, send: BatchSend) {
        guard let due = nextReport, let interval = reportInterval, now >= due else { return }
        // Reports a late wake missed are not made up: the next is an interval from now at the latest.
        nextReport = due + interval > now ? due + interval : now + interval
        events.append(.report(counters))
    }

    /// The next report's time, if reports were asked for.
    public var nextDeadline: MonotonicInstant? { nextReport }

    /// The next report or failure.
    public mutating func pollEvent() -> Event? { events.poll() }
}
