import UDP
import UDPPatterns

/// What ``PerInterfaceResponders`` needs of the responder it keeps on each interface: ``MDNSResponder`` and
/// ``SSDPResponder``.
protocol InterfaceResponder: Sendable {
    /// A message the responder queued, with where it goes.
    associatedtype Outgoing

    /// When the responder next has something to do; nil when nothing is scheduled.
    var nextDeadline: MonotonicInstant? { get }
    /// True once its first announcement went out.
    var isAnnounced: Bool { get }
    /// Takes the passing of ``nextDeadline``.
    mutating func handleTimeout(at now: MonotonicInstant)
    /// Queues its goodbyes and stops.
    mutating func stop(at now: MonotonicInstant)
    /// The next message it queued, if any.
    mutating func pollOutgoing() -> Outgoing?
    /// Takes the interface's new addresses, read again because they changed.
    mutating func addressesChanged(to addresses: [InterfaceAddress], at now: MonotonicInstant)
    /// `outgoing` encoded for `family`, or nil when it cannot be (it is then skipped).
    static func payload(of outgoing: Outgoing, for family: AddressFamily) -> [UInt8]?
    /// The one host `outgoing` goes to, or nil when it goes to the group.
    static func unicastDestination(of outgoing: Outgoing) -> SocketAddress?
}

/// The responders of an announce session, one per interface, with those interfaces' addresses: what
/// ``MDNSAnnounceSession`` and ``SSDPAnnounceSession`` share.
///
/// Each step visits the interfaces in index order, so that the order on the wire is fixed. The addresses are read
/// again every five seconds (``LinkAddresses``); a responder whose interface changed is told first, so that what it
/// queues for the change goes out in the same step.
struct PerInterfaceResponders<Responder: InterfaceResponder>: Sendable {
    /// The responders, by interface index.
    private(set) var byInterface: [UInt32: Responder] = [:]
    /// The interfaces in index order: what each step visits.
    private let order: [UInt32]
    private var links: LinkAddresses
    /// True once ``stop(at:)`` was called.
    private(set) var isStopped = false

    /// Makes one responder per interface with `make`, each given its own stream of `random`, so that two
    /// interfaces do not probe or answer in lockstep.
    init(
        interfaces: [UInt32: [InterfaceAddress]],
        at now: MonotonicInstant,
        addresses: @escaping @Sendable () -> [UInt32: [InterfaceAddress]]?,
        random: some RandomNumberGenerator,
        make: (_ addresses: [InterfaceAddress], _ random: SeededGenerator) -> Responder
    ) {
        links = LinkAddresses(interfaces, at: now, reading: addresses)
        order = interfaces.keys.sorted()
        var random = random
        for index in order {
            byInterface[index] = make(interfaces[index]!, SeededGenerator(seed: random.next()))
        }
    }

    /// Whether `index` is an interface with a responder.
    func serves(_ index: UInt32) -> Bool { byInterface[index] != nil }

    /// Whether `source` is on the link of `interface` (``LinkAddresses/isOnLink(_:interface:)``).
    func isOnLink(_ source: IPAddress, interface: UInt32) -> Bool { links.isOnLink(source, interface: interface) }

    /// Hands the responder of `index`, which must be one served, to `body` to change in place.
    mutating func withResponder(_ index: UInt32, _ body: (inout Responder) -> Void) {
        body(&byInterface[index]!)
    }

    /// Stops every responder (each queues its goodbyes); nothing more is scheduled after.
    mutating func stop(at now: MonotonicInstant) {
        guard !isStopped else { return }
        isStopped = true
        for index in order { byInterface[index]!.stop(at: now) }
    }

    /// The earliest of the responders' next steps and the next reading of the addresses; nil once stopped.
    var nextDeadline: MonotonicInstant? {
        guard !isStopped else { return nil }
        return byInterface.values.compactMap(\.nextDeadline).reduce(links.nextCheck, min)
    }

    /// Reads the addresses again when due (telling each responder whose interface changed), then takes the
    /// passing of each responder's deadline. Returns the interfaces whose first announcement went out in this step.
    @discardableResult
    mutating func handleTimeout(at now: MonotonicInstant) -> [UInt32] {
        guard !isStopped else { return [] }
        // The addresses first: a change queues its goodbye and makes the announcement due now, which the loop
        // below sends, so no deadline is left behind in the past.
        for index in links.refresh(at: now) {
            byInterface[index]!.addressesChanged(to: links.links[index] ?? [], at: now)
        }
        var announced: [UInt32] = []
        for index in order where byInterface[index]!.nextDeadline.map({ $0 <= now }) == true {
            let wasAnnounced = byInterface[index]!.isAnnounced
            byInterface[index]!.handleTimeout(at: now)
            if !wasAnnounced, byInterface[index]!.isAnnounced { announced.append(index) }
        }
        return announced
    }

    /// The next message a responder queued, in interface order, encoded for `family`: to `group` out of its
    /// interface, or to one host.
    mutating func pollTransmit(group: SocketAddress, family: AddressFamily) -> OutboundDatagram? {
        first { index, responder in
            while let outgoing = responder.pollOutgoing() {
                // Our own messages always encode; one that cannot is skipped, as the engines always did.
                guard let payload = Responder.payload(of: outgoing, for: family) else { continue }
                let destination = Responder.unicastDestination(of: outgoing) ?? group
                return OutboundDatagram(payload, to: destination, interfaceIndex: index)
            }
            return nil
        }
    }

    /// The first non-nil result of `poll` over the responders, in interface order.
    mutating func first<Result>(_ poll: (UInt32, inout Responder) -> Result?) -> Result? {
        for index in order {
            if let result = poll(index, &byInterface[index]!) { return result }
        }
        return nil
    }
}

extension MDNSResponder: InterfaceResponder {
    mutating func addressesChanged(to addresses: [InterfaceAddress], at now: MonotonicInstant) {
        update(addresses: addresses.map(\.address), at: now)
    }

    static func payload(of outgoing: Outgoing, for family: AddressFamily) -> [UInt8]? {
        try? outgoing.message.encoded()
    }

    static func unicastDestination(of outgoing: Outgoing) -> SocketAddress? {
        if case .unicast(let address) = outgoing.destination { address } else { nil }
    }
}

extension SSDPResponder: InterfaceResponder {
    /// Nothing to do: an SSDP advertisement names a URL, not addresses; the new addresses only change which
    /// searches are on the link, which the session checks.
    mutating func addressesChanged(to addresses: [InterfaceAddress], at now: MonotonicInstant) {}

    static func payload(of outgoing: Outgoing, for family: AddressFamily) -> [UInt8]? {
        outgoing.message.encoded(for: family)
    }

    static func unicastDestination(of outgoing: Outgoing) -> SocketAddress? {
        if case .unicast(let address) = outgoing.destination { address } else { nil }
    }
}
