import UDP
import UDPDNS
import UDPPatterns

/// The engine of `udp dns --count`: the same query every interval, as dnsping sends it, each a
/// ``DNSStubQuery`` of one try (a retry would hide the loss a probe is there to measure), with the round trips
/// and losses summed up as `udp ping` sums up its own (``LatencySummary``).
///
/// ```swift
/// var session = DNSPingSession(server: server, question: question, count: 10, interval: 1_000_000_000, timeout: 2)
/// try session.run(until: stop) { print($0) }
/// print(session.summary.latency.percentile(50) ?? 0)
/// ```
public struct DNSPingSession {
    /// What happened, in order.
    public enum Event: Sendable {
        /// Query `sequence` (from 1) was answered.
        case answered(sequence: Int, DNSStubQuery.Answer)
        /// Query `sequence` had no reply within the timeout (or an ICMP error ended it: `lastError`).
        case lost(sequence: Int, lastError: DeliveryError?)
        /// Something about query `sequence`, as ``DNSStubQuery`` reports it.
        case query(sequence: Int, DNSStubQuery.Event)
    }

    /// The server every query goes to, with its port (53 for DNS).
    public let server: SocketAddress
    /// What every query asks: a name, a type and a class.
    public let question: DNSQuestion
    /// Queries to send; 0 sends until stopped.
    public let count: Int
    /// Nanoseconds from one query's start to the next's.
    public let interval: UInt64
    /// How long each query waits for its reply.
    public let timeout: Duration
    /// Whether every query sets RD, asking the server to recurse.
    public let recursionDesired: Bool
    /// The OPT record every query carries; nil leaves EDNS(0) out.
    public let edns: EDNS?
    /// Datagrams dropped, by reason, over every query.
    public private(set) var ignored = DNSIgnoredCounts()
    /// The last reply, for its response code and records.
    public private(set) var lastAnswer: DNSStubQuery.Answer?
    private var counts = ProbeCounts()
    private var icmpErrors = 0
    private var latency: LatencyRecorder
    private var querySize = 0
    private var started: UInt64 = 0
    private var stopped: UInt64 = 0

    /// - Parameters:
    ///   - server: The server's address and port.
    ///   - question: What every query asks.
    ///   - count: Queries to send; 0 sends until stopped.
    ///   - interval: Nanoseconds from one query's start to the next's; a query that takes longer delays the
    ///     next, as only one is in flight at a time.
    ///   - timeout: Seconds each query waits for its reply before it counts as lost.
    ///   - recursionDesired: Sets RD in every query.
    ///   - edns: The OPT record every query carries; nil leaves EDNS(0) out.
    public init(
        server: SocketAddress,
        question: DNSQuestion,
        count: Int,
        interval: UInt64,
        timeout: Double,
        recursionDesired: Bool = true,
        edns: EDNS? = EDNS()
    ) {
        precondition(count >= 0 && timeout > 0)
        self.server = server
        self.question = question
        self.count = count
        self.interval = interval
        self.timeout = .seconds(timeout)
        self.recursionDesired = recursionDesired
        self.edns = edns
        latency = LatencyRecorder(highest: MonotonicClock.nanoseconds(seconds: timeout))
    }

    /// The statistics so far (final after ``run(until:onEvent:)`` returns), in `udp ping`'s terms: each query is
    /// a probe, the ignored datagrams are `foreign`, the round trips are by this process's clock.
    public var summary: LatencySummary {
        LatencySummary(
            counts: counts,
            foreign: ignored.total,
            icmpErrors: icmpErrors,
            latency: latency,
            timestamps: PingSession.Timestamps.user.rawValue,
            duration: Double(stopped - started) / 1e9,
            payloadSize: querySize
        )
    }

    /// Sends the queries one after another until ``count`` are answered or lost, or `stop` is requested (the
    /// query in flight then counts as lost, as `udp ping` counts its own).
    ///
    /// - Throws: `UDPError` when a socket cannot be made or a query cannot be sent.
    public mutating func run(until stop: StopSignal, onEvent: (Event) -> Void) throws(UDPError) {
        started = MonotonicClock.now()
        defer { stopped = MonotonicClock.now() }
        var sequence = 0
        var nextStart = started
        while (count == 0 || sequence < count) && !stop.isRequested {
            if try stop.sleep(until: nextStart) { break }
            sequence += 1
            nextStart = max(nextStart + interval, MonotonicClock.now())
            var query = DNSStubQuery(
                server: server,
                question: question,
                recursionDesired: recursionDesired,
                edns: edns,
                policy: RetryPolicy(attempts: 1, timeout: timeout)
            )
            let current = sequence
            let outcome = try query.run(until: stop) { event in
                if case .sent(_, _, _, let size) = event { querySize = size }
                if case .deliveryError = event { icmpErrors += 1 }
                onEvent(.query(sequence: current, event))
            }
            ignored += query.ignored
            counts.sent += 1
            switch outcome {
            case .answered(let answer):
                counts.received += 1
                latency.record(answer.roundTrip)
                lastAnswer = answer
                onEvent(.answered(sequence: sequence, answer))
            case .noReply(_, let lastError):
                counts.lost += 1
                onEvent(.lost(sequence: sequence, lastError: lastError))
            case .stopped:
                counts.lost += 1
            }
        }
    }
}
