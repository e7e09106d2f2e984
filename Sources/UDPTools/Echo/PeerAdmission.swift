import UDP
import UDPPatterns

/// Who gets an answer: a token bucket per source address, and an anti-amplification guard, with per-source
/// state bounded in entries (``Policy/maximumPeers``) and in time (``Policy/idleTimeout``). A source's state
/// has a fixed size (an address stored inline, two counts, a bucket), whatever it sends, so the bound in
/// entries bounds the bytes too; what was forgotten to keep it is counted in ``forgotten``.
///
/// A UDP source address is not proof of anything: a reflector that answers forged requests floods the
/// forged address. The guard keeps the bytes sent to each source within ``Policy/amplificationLimit`` times
/// the bytes received from it (RFC 9000 §8 uses 3 for QUIC's unvalidated addresses), and the rate limit
/// bounds what any one source can draw.
public struct PeerAdmission {
    /// The rules; each is off when nil.
    public struct Policy: Sendable {
        /// Datagrams per second each source may have answered (a token bucket of ``burst`` tokens).
        public var ratePerSecond: Double?
        /// The bucket's size: how many datagrams a source may send at once after being quiet.
        public var burst: Double
        /// Bytes answered to a source at most this many times the bytes received from it.
        public var amplificationLimit: Double?
        /// The most sources remembered; past that the least recently seen are forgotten.
        public var maximumPeers: Int
        /// A source silent this long is forgotten (its budget starts afresh).
        public var idleTimeout: Duration

        /// - Parameters:
        ///   - ratePerSecond: Datagrams per second each source may have answered; nil (the default) sets no
        ///     rate limit.
        ///   - burst: The token bucket's size; nil takes one second's worth at `ratePerSecond`, at least 1.
        ///   - amplificationLimit: Bytes answered per byte received from a source; by default 3, as RFC 9000
        ///     allows; nil turns the guard off.
        ///   - maximumPeers: The most sources remembered, at least 1; by default 4096.
        ///   - idleTimeout: How long a silent source is remembered; by default 60 seconds.
        public init(
            ratePerSecond: Double? = nil,
            burst: Double? = nil,
            amplificationLimit: Double? = 3,
            maximumPeers: Int = 4096,
            idleTimeout: Duration = .seconds(60)
        ) {
            self.ratePerSecond = ratePerSecond
            self.burst = burst ?? max(1, ratePerSecond ?? 1)
            self.amplificationLimit = amplificationLimit
            self.maximumPeers = max(1, maximumPeers)
            self.idleTimeout = idleTimeout
        }
    }

    /// Why a datagram was (not) answered.
    public enum Verdict: Sendable, Equatable {
        /// Answer it.
        case admitted
        /// Its source has too few tokens left in its bucket (``Policy/ratePerSecond``): drop it.
        case rateLimited
        /// The reply would take its source past ``Policy/amplificationLimit`` times the bytes it sent: drop it.
        case amplificationLimited
    }

    private struct Peer {
        var tokens: Double
        var refilledAt: UInt64
        var bytesReceived = 0
        var bytesSent = 0
        var lastSeen: UInt64
    }

    /// The rules this admission applies.
    public let policy: Policy
    private var peers: [SocketAddress: Peer] = [:]
    /// Sources forgotten to stay within ``Policy/maximumPeers`` or ``Policy/idleTimeout``.
    public private(set) var forgotten = 0
    private let idleNanoseconds: UInt64

    /// An admission that remembers no source yet, room for ``Policy/maximumPeers`` reserved.
    public init(policy: Policy) {
        self.policy = policy
        idleNanoseconds = MonotonicClock.nanoseconds(policy.idleTimeout)
        peers.reserveCapacity(policy.maximumPeers)
    }

    /// How many sources are remembered now (never more than ``Policy/maximumPeers``).
    public var count: Int { peers.count }

    /// Decides whether `datagrams` datagrams from `source`, of `requestBytes` in all, get their replies of
    /// `replyBytes` in all; a train is admitted or refused whole.
    ///
    /// - Parameters:
    ///   - source: The sender, as the datagrams say.
    ///   - datagrams: How many came (a GRO train counts each).
    ///   - requestBytes: Their bytes in all.
    ///   - replyBytes: The bytes of the replies they would get, in all.
    ///   - instant: When they came.
    ///   - validated: The source proved it owns its address (it sealed the datagram with the key): the
    ///     amplification guard does not apply to it, the rate limit still does.
    public mutating func admit(
        _ source: SocketAddress,
        datagrams: Int,
        requestBytes: Int,
        replyBytes: Int,
        now instant: MonotonicInstant,
        validated: Bool = false
    ) -> Verdict {
        // Kept as integers: the reflector asks once per received datagram.
        let now = instant.nanoseconds
        var peer = peers[source] ?? newPeer(now: now)
        if now &- peer.lastSeen > idleNanoseconds { peer = Peer(tokens: policy.burst, refilledAt: now, lastSeen: now) }
        peer.lastSeen = now
        peer.bytesReceived += requestBytes
        var verdict = Verdict.admitted
        if let rate = policy.ratePerSecond {
            peer.tokens = min(policy.burst, peer.tokens + Double(now &- peer.refilledAt) / 1e9 * rate)
            peer.refilledAt = now
            if peer.tokens >= Double(datagrams) {
                peer.tokens -= Double(datagrams)
            } else {
                verdict = .rateLimited
            }
        }
        if verdict == .admitted, !validated, let limit = policy.amplificationLimit {
            if Double(peer.bytesSent + replyBytes) > limit * Double(peer.bytesReceived) {
                verdict = .amplificationLimited
            } else {
                peer.bytesSent += replyBytes
            }
        }
        peers[source] = peer
        return verdict
    }

    /// A new source's state, making room first when the table is full.
    private mutating func newPeer(now: UInt64) -> Peer {
        if peers.count >= policy.maximumPeers {
            // Forget the idle, then the least recently seen eighth: O(n log n) once per n/8 new sources.
            let before = peers.count
            peers = peers.filter { now &- $0.value.lastSeen <= idleNanoseconds }
            if peers.count >= policy.maximumPeers {
                peers.evictLeastRecentlySeen(max(1, policy.maximumPeers / 8), lastSeen: \.lastSeen)
            }
            forgotten += before - peers.count
        }
        return Peer(tokens: policy.burst, refilledAt: now, lastSeen: now)
    }
}
