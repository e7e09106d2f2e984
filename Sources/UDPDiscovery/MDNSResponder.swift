import UDP
import UDPDNS
import UDPPatterns

/// Publishes one ``MDNSService`` by multicast DNS (RFC 6762 §8-10) on one link, without a socket or a clock: the
/// caller hands it what arrives (``receive(_:from:at:)``) and the passing of ``nextDeadline``
/// (``handleTimeout(at:)``), then takes what it queued with ``pollOutgoing()`` and ``pollEvent()``.
/// ``MDNSAnnounceSession`` runs one per interface as a `DatagramMachine`.
///
/// - **Probing** (§8.1): three queries 250 ms apart, the first after 0–250 ms, asking for the instance and
///   host names with the proposed records in the authority section. A response that holds other data for
///   either name is a conflict: the name is changed (`Web Server (2)`, `box-2.local`) and probing starts
///   again. Two hosts probing at once compare their proposals (§8.2); the lower one waits a second and probes
///   again, and then meets the other's answer. After fifteen conflicts in ten seconds, each new attempt waits
///   five seconds.
/// - **Announcing** (§8.3): every record in a response, twice, a second apart.
/// - **Answering** (§6): queries for its names and types, leaving out the answers the query already knows
///   (with at least half their TTL left, §7.1), never multicasting a record twice within a second; a question
///   with the unicast-response bit gets a unicast answer when the record went to the link within a quarter of
///   its TTL, a multicast one otherwise (§5.4); answers that only this host can give go at once, shared ones
///   (PTR) after 20–120 ms. A query from a port other than 5353 (a one-shot "legacy" client) gets a unicast
///   reply with the query's id and short TTLs (§6.7).
/// - **Address changes** (§8.4): a goodbye for the addresses gone, and the announcement again.
/// - **Stopping**: a goodbye, every record with TTL 0 (§10.1).
///
/// **Bounds.** Nothing a neighbour sends grows its state: the once-a-second limit remembers only the records
/// published now (at most the service's own, forgotten on a rename or an address change), the conflict back-off
/// only the last fifteen conflicts, and the held-back response only the service's own records. A query costs
/// one pass over its questions and one over its known answers, however many of each it carries. Each input
/// queues at most a few messages and events, which its caller takes before the next. What it met is counted in
/// ``counters``.
public struct MDNSResponder: Sendable {
    /// Where a message goes.
    public enum Destination: Hashable, Sendable {
        /// The mDNS group of the caller's family (224.0.0.251 or ff02::fb, port 5353), on the link this
        /// responder serves.
        case multicast
        /// One host: a querier whose question set the unicast-response bit (§5.4), or a one-shot client that
        /// asked from a port other than 5353 (§6.7).
        case unicast(SocketAddress)
    }

    /// A message to send.
    public struct Outgoing: Hashable, Sendable {
        /// The DNS message, to encode with `encoded()`.
        public var message: DNSMessage
        /// Where it goes.
        public var destination: Destination
    }

    /// What the responder did that its user should hear about.
    public enum Event: Hashable, Sendable {
        /// A name was taken: it is now `to`.
        case conflict(from: DNSName, to: DNSName)
        /// Probing succeeded and the first announcement went out.
        case announced(MDNSService)
    }

    private enum Phase: Hashable {
        case probing(sent: Int)
        case announcing(sent: Int)
        case running
        case stopped
    }

    /// What the responder met from other hosts.
    public struct Counters: Hashable, Sendable {
        /// Responses that claimed a name while it was being probed: each renamed the service (§8.1).
        public var conflicts = 0
        /// Responses that claimed a name already published: each was answered by defending it (§9).
        public var defended = 0
        /// Probes by another host for one of the names being probed, whose proposal won the tie-break: probing
        /// started again a second later (§8.2).
        public var tieBreaksLost = 0
        /// All counts zero.
        public init() {}
    }

    /// The most recent conflicts remembered for the back-off: fifteen in ten seconds slow probing (§8.1).
    public static let conflictsRemembered = 15
    /// How soon a record may be multicast again to defend a name (§6).
    static let defenseInterval = Duration.milliseconds(250)
    /// How soon a record may be multicast again in answer to a query (§6), and the gap between announcements.
    static let answerInterval = Duration.seconds(1)
    /// The gap between probes (§8.1).
    static let probeInterval = Duration.milliseconds(250)

    /// The service as published now, under its current names.
    public private(set) var service: MDNSService
    /// What the responder met from other hosts.
    public private(set) var counters = Counters()
    private var phase = Phase.probing(sent: 0)
    /// When the next probe or announcement is due.
    private var nextStep: MonotonicInstant
    /// When each record was last multicast, for the once-a-second limit.
    private var lastMulticast: [RecordKey: MonotonicInstant] = [:]
    /// A multicast response held back by the shared-answer delay.
    private var pending: (due: MonotonicInstant, answers: [DNSRecord])?
    /// The source of the random delays (the first probe's, a shared answer's): injected, so a test can seed it.
    private var random: any RandomNumberGenerator & Sendable
    /// When the last ``conflictsRemembered`` conflicts happened, oldest first, for the probing back-off.
    private var recentConflicts: [MonotonicInstant] = []
    /// How many conflict times are remembered for the back-off: at most ``conflictsRemembered``, however many
    /// conflicts the link makes.
    public var recentConflictCount: Int { recentConflicts.count }
    /// How many answers are held back for the shared-answer delay or the once-a-second limit: at most the
    /// service's own records, however many queries ask.
    public var heldAnswerCount: Int { pending?.answers.count ?? 0 }
    /// How many records' last multicast times are remembered: at most the records published now.
    public var rememberedMulticastCount: Int { lastMulticast.count }
    /// Messages queued by the last input, for ``pollOutgoing()``.
    private var outgoing = MachineQueue<Outgoing>()
    /// Events queued by the last input, for ``pollEvent()``.
    private var events = MachineQueue<Event>()

    /// - Parameters:
    ///   - service: What to publish.
    ///   - now: When it starts: the first probe goes 0–250 ms later.
    ///   - random: The source of the random delays; the system's by default, a seeded one in tests.
    public init(
        service: MDNSService,
        at now: MonotonicInstant,
        random: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.service = service
        self.random = random
        nextStep = now
        nextStep = now + .milliseconds(Int.random(in: 0...250, using: &self.random))
    }

    /// The next message to send, queued by the last input; nil when there is none.
    public mutating func pollOutgoing() -> Outgoing? {
        outgoing.poll()
    }

    /// The next thing the responder did that its user should hear about; nil when there is none.
    public mutating func pollEvent() -> Event? {
        events.poll()
    }

    /// When ``handleTimeout(at:)`` next has something to do; nil once stopped, or when only a query can move it.
    public var nextDeadline: MonotonicInstant? {
        guard phase != .stopped else { return nil }
        var wake: MonotonicInstant? = phase == .running ? nil : nextStep
        if let pending { wake = min(wake ?? pending.due, pending.due) }
        return wake
    }

    /// Whether probing is over and the service is published.
    public var isAnnounced: Bool {
        switch phase {
        case .announcing, .running: true
        default: false
        }
    }

    /// Queues what is due at `now`: a probe, an announcement, or a delayed response.
    public mutating func handleTimeout(at now: MonotonicInstant) {
        if let held = pending, held.due <= now {
            pending = nil
            outgoing.append(contentsOf: multicastResponse(held.answers, now: now))
        }
        guard now >= nextStep, let records = try? service.records() else { return }
        switch phase {
        case .probing(let sent) where sent < 3:
            var probe = DNSMessage()
            probe.questions = [try? service.instanceName, service.host].compactMap { $0 }.map {
                DNSQuestion(name: $0, type: .any)
            }
            // Proposed records go in the authority section, without the cache-flush bit (§8.2).
            probe.authorities = records.unique.map { record in
                var record = record
                record.rawClass &= 0x7FFF
                return record
            }
            outgoing.append(Outgoing(message: probe, destination: .multicast))
            phase = .probing(sent: sent + 1)
            nextStep = now + Self.probeInterval
        case .probing:
            phase = .announcing(sent: 0)
            handleTimeout(at: now)
        case .announcing(let sent):
            outgoing.append(contentsOf: multicastResponse(records.shared + records.unique, now: now, interval: .zero))
            if sent == 0 { events.append(.announced(service)) }
            phase = sent + 1 >= 2 ? .running : .announcing(sent: sent + 1)
            nextStep = now + Self.answerInterval
        case .running, .stopped:
            break
        }
    }

    /// Takes in a message from `source`, heard at `now`, and queues what it calls for: an answer, a defence, a
    /// rename.
    public mutating func receive(_ message: DNSMessage, from source: SocketAddress, at now: MonotonicInstant) {
        guard phase != .stopped, let records = try? service.records(), let instance = try? service.instanceName
        else { return }
        let ours = Set((records.shared + records.unique).map(RecordKey.init))
        let names = [instance, service.host]
        if message.isResponse {
            // Someone else's data for one of our names: a conflict, unless it is our own data echoed back.
            let theirs = message.answers + message.additionals
            for name in names {
                let clash = theirs.contains { $0.name == name && !ours.contains(RecordKey($0)) && $0.ttl > 0 }
                if clash, case .probing = phase {
                    counters.conflicts += 1
                    events.append(rename(name, now: now))
                    return
                }
                if clash {
                    counters.defended += 1
                    // Published already: defend with our records at once (§9); the other host renames.
                    outgoing.append(
                        contentsOf: multicastResponse(records.unique, now: now, interval: Self.defenseInterval)
                    )
                    return
                }
            }
            return
        }
        if case .probing = phase {
            // Another host probing for one of our names at the same time: the lower proposal backs off (§8.2).
            for name in names {
                let proposed = message.authorities.filter { $0.name == name }
                guard !proposed.isEmpty else { continue }
                let mine = records.unique.filter { $0.name == name }
                if Self.compare(mine, proposed) < 0 {
                    counters.tieBreaksLost += 1
                    phase = .probing(sent: 0)
                    nextStep = now + .seconds(1)
                }
            }
            return
        }
        outgoing.append(contentsOf: answer(message, from: source, records: records, now: now))
    }

    /// The answers to a query, or nothing when it asks nothing of ours.
    private mutating func answer(
        _ query: DNSMessage,
        from source: SocketAddress,
        records: (shared: [DNSRecord], unique: [DNSRecord]),
        now: MonotonicInstant
    ) -> [Outgoing] {
        let all = records.shared + records.unique
        // A probe for one of our names is defended on the link at once, whatever bits its questions carry.
        let isProbe = !query.authorities.isEmpty
        var answers: [DNSRecord] = []
        /// The answers to questions with the unicast-response (QU) bit that went to the link lately.
        var unicastAnswers: [DNSRecord] = []
        // Each known answer's longest TTL, by identity: one pass over them, however many questions follow.
        var knownTTL: [RecordKey: UInt32] = [:]
        for known in query.answers {
            let key = RecordKey(known)
            knownTTL[key] = max(knownTTL[key] ?? 0, known.ttl)
        }
        var chosen = Set<RecordKey>()
        for question in query.questions {
            for record in all
            where record.name == question.name && (question.type == .any || record.type == question.type) {
                let key = RecordKey(record)
                let known = knownTTL[key].map { UInt64($0) * 2 >= UInt64(record.ttl) } ?? false
                guard !known, chosen.insert(key).inserted else { continue }
                // QU (§5.4): a unicast answer, unless the record was not multicast within a quarter of its TTL,
                // when the link's caches are due a refresh too.
                let recent = lastMulticast[key].map { now < $0 + .seconds(Int64(record.ttl)) / 4 }
                if question.rawClass & 0x8000 != 0 && recent == true && !isProbe {
                    unicastAnswers.append(record)
                } else {
                    answers.append(record)
                }
            }
        }
        var outgoing: [Outgoing] = []
        if !unicastAnswers.isEmpty && source.port == 5353 {
            var reply = DNSMessage()
            reply.isResponse = true
            reply.isAuthoritative = true
            reply.answers = unicastAnswers
            outgoing.append(Outgoing(message: reply, destination: .unicast(source)))
        } else {
            answers += unicastAnswers
        }
        guard !answers.isEmpty else { return outgoing }
        if source.port != 5353 {
            // A one-shot client on another port: a unicast reply it can match, with short TTLs (§6.7).
            var reply = DNSMessage(id: query.id, questions: query.questions)
            reply.isResponse = true
            reply.isAuthoritative = true
            reply.answers = answers.map { record in
                var record = record
                record.rawClass &= 0x7FFF
                record.ttl = min(record.ttl, 10)
                return record
            }
            return [Outgoing(message: reply, destination: .unicast(source))]
        }
        // Answers only this host can give go at once too; shared ones after a random delay.
        if isProbe || answers.allSatisfy({ $0.rawClass & 0x8000 != 0 }) {
            return outgoing
                + multicastResponse(answers, now: now, interval: isProbe ? Self.defenseInterval : Self.answerInterval)
        }
        hold(answers, until: now + .milliseconds(Int.random(in: 20...120, using: &random)))
        return outgoing
    }

    /// Adds `answers` to the multicast response held back, due at `due` at the latest.
    private mutating func hold(_ answers: [DNSRecord], until due: MonotonicInstant) {
        let held = pending?.answers ?? []
        pending = (min(pending?.due ?? due, due), held + answers.filter { !held.contains($0) })
    }

    /// A response for `answers`, with the records a browser needs next as additionals (RFC 6763 §12), holding
    /// back any record multicast less than `interval` ago (a second for answers, 250 ms when defending a name,
    /// §6) until that interval has passed; nothing when that leaves no answer now.
    ///
    /// Held back, not dropped: a querier that started listening just after an announcement has not seen it.
    private mutating func multicastResponse(
        _ answers: [DNSRecord],
        now: MonotonicInstant,
        interval: Duration = answerInterval
    ) -> [Outgoing] {
        var response = DNSMessage()
        response.isResponse = true
        response.isAuthoritative = true
        var held: [DNSRecord] = []
        var heldUntil: MonotonicInstant?
        response.answers = answers.filter { record in
            guard let last = lastMulticast[RecordKey(record)], now < last + interval else { return true }
            held.append(record)
            heldUntil = min(heldUntil ?? last + interval, last + interval)
            return false
        }
        if let heldUntil { hold(held, until: heldUntil) }
        if response.answers.contains(where: { $0.type == .ptr }), let records = try? service.records() {
            response.additionals = records.unique.filter { !response.answers.contains($0) }
        }
        guard !response.answers.isEmpty else { return [] }
        for record in response.answers + response.additionals { lastMulticast[RecordKey(record)] = now }
        return [Outgoing(message: response, destination: .multicast)]
    }

    /// Takes the next name after a conflict on `name`, and probes again.
    private mutating func rename(_ name: DNSName, now: MonotonicInstant) -> Event {
        let new: DNSName
        if name == (try? service.instanceName) {
            service.instance = Self.nextInstanceName(service.instance)
            new = (try? service.instanceName) ?? name
        } else {
            let label = DNSName.text(service.host.labels.first ?? [])
            let renamed = [Array(Self.nextHostLabel(label).utf8)] + service.host.labels.dropFirst()
            service.host = (try? DNSName(labels: renamed)) ?? service.host
            new = service.host
        }
        phase = .probing(sent: 0)
        // Fifteen conflicts within ten seconds: at least five seconds before each further attempt (§8.1), so
        // two misbehaving hosts cannot make a probe storm.
        recentConflicts = recentConflicts.suffix(Self.conflictsRemembered - 1) + [now]
        let inTenSeconds = recentConflicts.count { $0 + .seconds(10) > now }
        nextStep = now + (inTenSeconds >= Self.conflictsRemembered ? .seconds(5) : Self.probeInterval)
        forgetUnpublished()
        return .conflict(from: name, to: new)
    }

    /// Drops the once-a-second times of records no longer published, so renames and address changes cannot
    /// grow them.
    private mutating func forgetUnpublished() {
        guard let records = try? service.records() else {
            lastMulticast = [:]
            return
        }
        let published = Set((records.shared + records.unique).map(RecordKey.init))
        lastMulticast = lastMulticast.filter { published.contains($0.key) }
    }

    /// `Web Server` → `Web Server (2)`, `Web Server (2)` → `Web Server (3)` (RFC 6763 §9's way).
    static func nextInstanceName(_ name: String) -> String {
        if name.hasSuffix(")"), let open = name.lastIndex(of: "("),
            let number = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]),
            open > name.startIndex, name[name.index(before: open)] == " "
        {
            return String(name[..<name.index(before: open)]) + " (\(number + 1))"
        }
        return name + " (2)"
    }

    /// `box` → `box-2`, `box-2` → `box-3`.
    static func nextHostLabel(_ label: String) -> String {
        if let dash = label.lastIndex(of: "-"), let number = Int(label[label.index(after: dash)...]) {
            return String(label[..<dash]) + "-\(number + 1)"
        }
        return label + "-2"
    }

    /// Takes the host's addresses as they are now (§8.4): when they changed, a goodbye for the addresses gone
    /// goes out at once and the records are announced again, twice, a second apart. Nothing is sent while
    /// probing, which announces the new addresses when it ends.
    public mutating func update(addresses: [IPAddress], at now: MonotonicInstant) {
        guard addresses != service.addresses, phase != .stopped else { return }
        let gone = service.addresses.filter { !addresses.contains($0) }
        var goneService = service
        goneService.addresses = gone
        service.addresses = addresses
        forgetUnpublished()
        guard isAnnounced else { return }
        phase = .announcing(sent: 0)
        nextStep = now
        guard !gone.isEmpty, let records = try? goneService.records(ttlScale: 0) else { return }
        var goodbye = DNSMessage()
        goodbye.isResponse = true
        goodbye.isAuthoritative = true
        goodbye.answers = records.unique.filter { $0.type == .a || $0.type == .aaaa }
        outgoing.append(Outgoing(message: goodbye, destination: .multicast))
    }

    /// Queues the goodbye, every record with TTL 0 so caches drop them within a second, and stops the responder:
    /// nothing is sent, answered or announced after. Nothing to say when the service was never announced.
    public mutating func stop(at now: MonotonicInstant) {
        defer {
            phase = .stopped
            pending = nil
        }
        guard phase != .stopped, isAnnounced, let records = try? service.records(ttlScale: 0) else { return }
        var goodbye = DNSMessage()
        goodbye.isResponse = true
        goodbye.isAuthoritative = true
        goodbye.answers = records.shared + records.unique
        outgoing.append(Outgoing(message: goodbye, destination: .multicast))
    }

    /// Compares two proposals for a name (§8.2): records sorted by class, type and data, compared in turn; the
    /// first difference decides, and a longer list wins over its own prefix.
    static func compare(_ mine: [DNSRecord], _ theirs: [DNSRecord]) -> Int {
        func sortKey(_ record: DNSRecord) -> [UInt8] {
            let rawClass = record.rawClass & 0x7FFF
            var key = [
                UInt8(rawClass >> 8), UInt8(rawClass & 0xFF), UInt8(record.type.rawValue >> 8),
                UInt8(record.type.rawValue & 0xFF),
            ]
            var data = DNSMessage(answers: [DNSRecord(name: .root, ttl: 0, data: record.data)])
            data.id = 0
            key += ((try? data.encoded()) ?? []).dropFirst(12 + 11)
            return key
        }
        let left = mine.map(sortKey).sorted { $0.lexicographicallyPrecedes($1) }
        let right = theirs.map(sortKey).sorted { $0.lexicographicallyPrecedes($1) }
        for (a, b) in zip(left, right) where a != b { return a.lexicographicallyPrecedes(b) ? -1 : 1 }
        return left.count == right.count ? 0 : (left.count < right.count ? -1 : 1)
    }
}
