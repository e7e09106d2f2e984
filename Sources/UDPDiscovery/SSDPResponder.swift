import UDP
import UDPPatterns

/// Advertises one UPnP device by SSDP (UPnP Device Architecture 1.1 §1.2-1.3) on one link, without a socket or a
/// clock: the caller hands it the searches that arrive (``receive(_:from:multicast:at:)``) and the passing of
/// ``nextDeadline`` (``handleTimeout(at:)``), then takes what it queued with ``pollOutgoing()``.
/// ``SSDPAnnounceSession`` runs one per interface as a `DatagramMachine`.
///
/// - **Announcing**: `NOTIFY ssdp:alive` for every advertisement, three times 500 ms apart, the first after a
///   random 0–100 ms; then again before half the `max-age` has passed, at a random moment so devices that
///   started together spread out (§1.2.2).
/// - **Answering**: an `M-SEARCH` for `ssdp:all`, `upnp:rootdevice`, the device's `uuid:` or one of its types
///   (an older version of a type included, §1.3.2) gets one unicast response per matching advertisement, after a
///   random delay up to `MX` (at most 5 s); a unicast search, one not sent to the group, at once. A search
///   repeated while its answer waits is answered once, and at most ``maximumPending`` answers wait: a flood of
///   searches cannot grow the queue or turn the responder into an amplifier.
/// - **Stopping**: `NOTIFY ssdp:byebye` for every advertisement.
///
/// **Bounds.** The only state a neighbour can grow is the queue of answers waiting: at most ``maximumPending``
/// (64) entries, each the searcher's address, its `ST` (at most 2048 bytes, `SSDPMessage`'s line limit) and
/// copies of this responder's own advertisements; a search past it is dropped and counted in
/// ``Counters/searchesDropped``.
public struct SSDPResponder: Sendable {
    /// Where a message goes.
    public enum Destination: Hashable, Sendable {
        /// The SSDP group of the caller's family (239.255.255.250 or ff02::c, port 1900): the announcements and
        /// the goodbyes.
        case multicast
        /// The control point that searched, at the address and port the search came from: the answers.
        case unicast(SocketAddress)
    }

    /// A message to send.
    public struct Outgoing: Hashable, Sendable {
        /// The SSDP message, to encode with ``SSDPMessage/encoded(for:)``.
        public var message: SSDPMessage
        /// Where it goes.
        public var destination: Destination
    }

    /// What the responder did and dropped.
    public struct Counters: Hashable, Sendable {
        /// Searches that matched an advertisement.
        public var searchesAnswered = 0
        /// Searches for something else.
        public var searchesIgnored = 0
        /// Searches dropped because ``maximumPending`` answers were already waiting.
        public var searchesDropped = 0
        /// Every count at zero.
        public init() {}
    }

    /// The most answers that wait for their random delay at once.
    public static let maximumPending = 64
    /// The gap between the first three announcements.
    static let announcementInterval = Duration.milliseconds(500)

    /// What is advertised: each with its `USN`, `NT`/`ST`, `LOCATION`, `SERVER` and `max-age`.
    public let advertisements: [SSDPAdvertisement]
    /// The searches answered, ignored and dropped since the responder was made.
    public private(set) var counters = Counters()
    private var announcementsSent = 0
    private var nextAnnouncement: MonotonicInstant?
    private var pending: [Answer] = []
    /// Messages queued by the last input, for ``pollOutgoing()``.
    private var outgoing = MachineQueue<Outgoing>()
    /// The source of the random delays (the first announcement's, each answer's, each refresh's): injected, so a
    /// test can seed it.
    private var random: any RandomNumberGenerator & Sendable

    /// An answer waiting for its random delay.
    private struct Answer: Sendable {
        var due: MonotonicInstant
        var to: SocketAddress
        var target: String
        var answers: [SSDPAdvertisement]
    }

    /// - Parameters:
    ///   - advertisements: What to advertise, normally ``advertisements(uuid:type:location:server:maximumAge:)``.
    ///   - now: When it starts: the first announcement goes 0–100 ms later.
    ///   - random: The source of the random delays; the system's by default, a seeded one in tests.
    public init(
        advertisements: [SSDPAdvertisement],
        at now: MonotonicInstant,
        random: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.advertisements = advertisements
        self.random = random
        nextAnnouncement = now + .milliseconds(Int.random(in: 0...100, using: &self.random))
    }

    /// The next message to send, queued by the last input; nil when there is none.
    public mutating func pollOutgoing() -> Outgoing? {
        outgoing.poll()
    }

    /// Whether the first `NOTIFY ssdp:alive` has been queued.
    public var isAnnounced: Bool { announcementsSent > 0 }

    /// How many answers wait for their random delay: at most ``maximumPending``.
    public var pendingAnswers: Int { pending.count }

    /// The advertisements of a root device with one type (§1.2.2): `upnp:rootdevice`, its `uuid:` and the type,
    /// each with a USN made of the UUID and the target.
    ///
    /// - Parameters:
    ///   - uuid: The device's UUID, without `uuid:`.
    ///   - type: A device or service type URN (`urn:schemas-upnp-org:device:MediaServer:1`), or
    ///     `upnp:rootdevice` or the device's own `uuid:` for those two alone.
    ///   - location: The URL of the device description.
    ///   - server: `OS/version UPnP/1.1 product/version`.
    ///   - maximumAge: Seconds the advertisements stay valid, 1800 or more by the specification.
    public static func advertisements(
        uuid: String,
        type: String,
        location: String,
        server: String,
        maximumAge: Int = 1_800
    ) -> [SSDPAdvertisement] {
        let device = "uuid:\(uuid)"
        var targets = [("upnp:rootdevice", "\(device)::upnp:rootdevice"), (device, device)]
        if type.lowercased() != "upnp:rootdevice" && type.lowercased() != device.lowercased() {
            targets.append((type, "\(device)::\(type)"))
        }
        return targets.map { target, usn in
            SSDPAdvertisement(
                uniqueServiceName: usn,
                target: target,
                location: location,
                server: server,
                maximumAge: maximumAge
            )
        }
    }

    /// When ``handleTimeout(at:)`` next has something to do; nil once stopped.
    public var nextDeadline: MonotonicInstant? {
        let answer = pending.lazy.map(\.due).min()
        guard let nextAnnouncement else { return answer }
        return min(answer ?? nextAnnouncement, nextAnnouncement)
    }

    /// Queues the announcements and answers due by `now`.
    public mutating func handleTimeout(at now: MonotonicInstant) {
        if let due = nextAnnouncement, due <= now {
            outgoing.append(
                contentsOf: advertisements.map { Outgoing(message: .notify($0, .alive), destination: .multicast) }
            )
            announcementsSent += 1
            if announcementsSent < 3 {
                nextAnnouncement = now + Self.announcementInterval
            } else {
                // Before half the shortest max-age, at a random moment in its second quarter (in milliseconds).
                // Clamped to 4 s-68 years, so no max-age can make the product overflow.
                let seconds = min(max(advertisements.compactMap(\.maximumAge).min() ?? 1_800, 4), Int(Int32.max))
                let age = Int64(seconds) * 1_000
                nextAnnouncement = now + .milliseconds(Int64.random(in: (age / 4)...(age / 2), using: &random))
            }
        }
        var waiting: [Answer] = []
        for answer in pending {
            guard answer.due <= now else {
                waiting.append(answer)
                continue
            }
            outgoing.append(
                contentsOf: answer.answers.map { Outgoing(message: .response($0), destination: .unicast(answer.to)) }
            )
        }
        pending = waiting
    }

    /// Takes in a message from `source`, heard at `now`; `multicast` says whether it was sent to the group.
    ///
    /// Answers wait for ``handleTimeout(at:)``, even one due at once: a search never queues an answer from within
    /// this call, so the caller sends from one place.
    public mutating func receive(
        _ message: SSDPMessage,
        from source: SocketAddress,
        multicast: Bool,
        at now: MonotonicInstant
    ) {
        guard nextAnnouncement != nil else { return }  // stopped
        guard case .search(let search) = message else { return }
        let answers = matches(search.target)
        guard !answers.isEmpty else {
            counters.searchesIgnored += 1
            return
        }
        // The same control point asking the same again: its answer is already on the way.
        if pending.contains(where: { $0.to == source && $0.target == search.target }) { return }
        guard pending.count < Self.maximumPending else {
            counters.searchesDropped += 1
            return
        }
        counters.searchesAnswered += 1
        // Up to MX seconds, less a margin so the answer arrives within them (as async-upnp-client does).
        let window = multicast ? min(max(search.maximumWait, 0), 5) * 1_000 : 0
        let delay = window > 250 ? Int.random(in: 0..<(window - 250), using: &random) : 0
        pending.append(Answer(due: now + .milliseconds(delay), to: source, target: search.target, answers: answers))
    }

    /// The advertisements that answer a search for `target`, each with `ST` set to what was asked.
    func matches(_ target: String) -> [SSDPAdvertisement] {
        let asked = target.lowercased()
        if asked == "ssdp:all" { return advertisements }
        return advertisements.filter { Self.answers(asked, with: $0.target.lowercased()) }.map { advertisement in
            var answer = advertisement
            answer.target = target
            return answer
        }
    }

    /// Whether `advertised` answers a search for `asked`: the same, or the same type in an older version
    /// (a `:2` device still answers for `:1`, §1.3.2).
    static func answers(_ asked: String, with advertised: String) -> Bool {
        if asked == advertised { return true }
        guard asked.hasPrefix("urn:"), let askedColon = asked.lastIndex(of: ":"),
            let advertisedColon = advertised.lastIndex(of: ":"),
            asked[..<askedColon] == advertised[..<advertisedColon],
            let askedVersion = Int(asked[asked.index(after: askedColon)...]),
            let advertisedVersion = Int(advertised[advertised.index(after: advertisedColon)...])
        else { return false }
        return askedVersion >= 1 && askedVersion <= advertisedVersion
    }

    /// Queues the goodbyes, `ssdp:byebye` for every advertisement. Nothing is announced or answered after.
    public mutating func stop(at now: MonotonicInstant) {
        guard nextAnnouncement != nil else { return }
        nextAnnouncement = nil
        pending = []
        outgoing.append(
            contentsOf: advertisements.map { advertisement in
                var goodbye = advertisement
                goodbye.location = nil
                goodbye.server = nil
                goodbye.maximumAge = nil
                return Outgoing(message: .notify(goodbye, .byebye), destination: .multicast)
            }
        )
    }
}
