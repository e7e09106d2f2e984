import UDP

/// One measurement of the offset between this host's clock and a server's, from the four timestamps of a
/// request and its reply (RFC 5905 §8):
///
/// - T1, the client's send time, and T4, its receive time, on this host's clock;
/// - T2, when the server received the request, and T3, when it sent the reply, on the server's.
///
/// `offset = ((T2 − T1) + (T3 − T4)) / 2`, positive when the server is ahead; `delay = (T4 − T1) − (T3 − T2)`,
/// the round trip less the server's own time.
public struct NTPSample: Hashable, Sendable {
    /// The server's clock minus this host's: negative when the server is behind.
    public var offset: Duration
    /// The round trip, less the time the server held the request (never below zero).
    public var delay: Duration
    /// The reply.
    public var reply: NTPPacket

    /// - Parameters:
    ///   - reply: The server's reply, judged valid (``SNTPRequest/check(_:)``).
    ///   - sentAt: T1, when the request left: this host's clock just before the send, or the kernel's stamp.
    ///   - receivedAt: T4, when the reply arrived: the kernel's stamp, or this host's clock just after.
    public init(reply: NTPPacket, sentAt: WallClockTime, receivedAt: WallClockTime) {
        let t1 = NTPTimestamp(sentAt)
        let t4 = NTPTimestamp(receivedAt)
        let t2 = reply.receiveTimestamp
        let t3 = reply.transmitTimestamp
        offset = (t2.duration(since: t1) + t3.duration(since: t4)) / 2
        // A server whose clock ran between T2 and T3 in the other direction than the client's can make this a
        // little negative (RFC 5905 clamps it to the precision): no round trip is shorter than nothing.
        delay = max(.zero, t4.duration(since: t1) - t3.duration(since: t2))
        self.reply = reply
    }

    /// The sample NTP's clock filter would choose (RFC 5905 §10): the one with the least delay, whose offset
    /// was least disturbed by queueing on the way.
    public static func best(of samples: [NTPSample]) -> NTPSample? {
        samples.min { $0.delay < $1.delay }
    }
}
