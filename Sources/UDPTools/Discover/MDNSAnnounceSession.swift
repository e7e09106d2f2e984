import UDP
import UDPDNS
import UDPDiscovery

/// The engine of `udp announce`: publishes one service by multicast DNS on one address family, one
/// `MDNSResponder` per interface (each with that interface's addresses), from a socket that shares
/// port 5353 with the host's other responders, until stopped; then it says goodbye. It reads the interfaces'
/// addresses again every five seconds, and announces them again when they change.
///
/// A record in a query or response that does not decode is skipped by its length and counted, and the rest of
/// its packet used (RFC 6762 §18). Each responder's state is bounded whatever the link sends
/// (`MDNSResponder`); what the session dropped and what the responders met are counted in ``counters``.
public struct MDNSAnnounceSession: ~Copyable {
    /// What the session received and dropped, and the conflicts its responders met, by reason; every
    /// interface together.
    ///
    /// Its `description` lists the non-zero counts on one line in a fixed wording, as `udp announce --stats`
    /// prints them: `40 queries, 2 responses, 1 malformed, 1 conflicts (renamed)`.
    public struct Counters: Sendable, Equatable, CustomStringConvertible {
        /// Queries taken in, from the link, on an interface announced on.
        public var queries = 0
        /// Responses taken in (checked for conflicts with the names published).
        public var responses = 0
        /// Packets whose header or questions did not decode: dropped whole.
        public var malformed = 0
        /// Records skipped in the packets taken in: their data did not decode, or the packet ended inside them.
        public var recordsSkipped = 0
        /// Packets from off the link: a hop limit below 255 and (a query) a source on none of the interface's
        /// networks.
        public var offLink = 0
        /// Packets that arrived on an interface not announced on.
        public var otherInterface = 0
        /// Responses that claimed a name while it was being probed, each a rename (`MDNSResponder.Counters`).
        public var conflicts = 0
        /// Responses that claimed a name already published, each answered by defending it.
        public var defended = 0
        /// Probes by other hosts that won the tie-break for a name being probed.
        public var tieBreaksLost = 0
        /// All counts zero.
        public init() {}

        /// The non-zero counts on one line, in a wording that stays the same.
        public var description: String {
            countList([
                "queries": queries,
                "responses": responses,
                "malformed": malformed,
                "records skipped": recordsSkipped,
                "off link": offLink,
                "other interface": otherInterface,
                "conflicts (renamed)": conflicts,
                "conflicts (defended)": defended,
                "tie-breaks lost": tieBreaksLost,
            ])
        }
    }

    /// What a responder did, on one interface.
    public struct Event: Sendable {
        /// The interface, by index, whose responder it was.
        public var interfaceIndex: UInt32
        /// The session's address family.
        public var family: AddressFamily
        /// What the responder did: announced the service once its probes met no conflict, or renamed it after
        /// one (`MDNSResponder.Event`).
        public var event: MDNSResponder.Event
    }

    /// The family announced on: IPv4 (group 224.0.0.251) or IPv6 (ff02::fb).
    public let family: AddressFamily
    private var responders: [UInt32: MDNSResponder] = [:]
    private var buffer = [UInt8](repeating: 0, count: 9_000)
    private var links: LinkAddresses
    private var received = Counters()
    /// Queries and responses that did not decode (``Counters/malformed``).
    public var malformed: Int { received.malformed }
    /// Packets from off the link (``Counters/offLink``).
    public var offLink: Int { received.offLink }

    /// What the session received and dropped, with what each responder met.
    public var counters: Counters {
        var total = received
        for responder in responders.values {
            total.conflicts += responder.counters.conflicts
            total.defended += responder.counters.defended
            total.tieBreaksLost += responder.counters.tieBreaksLost
        }
        return total
    }

    /// - Parameters:
    ///   - family: IPv4 (224.0.0.251) or IPv6 (ff02::fb).
    ///   - service: What to publish; its addresses are replaced, on each interface, by that interface's own.
    ///   - interfaces: Each interface, by index, with its addresses: those published there, and the networks
    ///     whose queries are answered.
    ///   - now: ``MonotonicClock`` now.
    public init(family: AddressFamily, service: MDNSService, interfaces: [UInt32: [InterfaceAddress]], now: UInt64) {
        self.family = family
        links = LinkAddresses(interfaces, now: now)
        for (index, addresses) in interfaces {
            var published = service
            published.addresses = addresses.map(\.address)
            responders[index] = MDNSResponder(service: published, now: now)
        }
    }

    /// Publishes until `stop` is requested, then sends the goodbyes.
    public mutating func run(
        _ socket: borrowing UDPSocket,
        until stop: StopSignal,
        onEvent: (Event) -> Void
    ) throws(UDPError) {
        let group = SocketAddress(family == .inet ? MDNSBrowseSession.groupV4 : MDNSBrowseSession.groupV6, port: 5353)
        while !stop.isRequested {
            let now = MonotonicClock.now()
            for index in responders.keys.sorted() {
                let (messages, events) = responders[index]!.poll(now: now)
                try send(messages, on: index, group: group, socket)
                for event in events { onEvent(Event(interfaceIndex: index, family: family, event: event)) }
            }
            for index in links.refresh(now: now) {
                let addresses = links.links[index]?.map(\.address) ?? []
                try send(responders[index]!.update(addresses: addresses, now: now), on: index, group: group, socket)
            }
            let wake = min(responders.values.compactMap(\.nextWake).min() ?? .max, links.nextCheck)
            guard try stop.wait(forReadable: socket.descriptor, until: wake) else { continue }
            while let info = try socket.receiveIfQueued(into: &buffer) {
                guard let decoded = try? DNSMessage.decodingLeniently(buffer[..<info.count]) else {
                    received.malformed += 1
                    continue
                }
                let message = decoded.message
                // Only the link counts (RFC 6762 §11): a response with hop limit 255, which no router forwards;
                // a query with that, or from an address on the interface's networks (a one-shot client's
                // unicast query may have been sent with a lower limit).
                guard let index = info.interfaceIndex, responders[index] != nil else {
                    received.otherInterface += 1
                    continue
                }
                let fromLink = info.hopLimit.map { $0 == 255 } ?? true
                guard fromLink || (!message.isResponse && links.isOnLink(info.sender.ip, interface: index)) else {
                    received.offLink += 1
                    continue
                }
                if message.isResponse { received.responses += 1 } else { received.queries += 1 }
                received.recordsSkipped += decoded.skippedRecords
                let (messages, events) = responders[index]!.receive(
                    message,
                    from: info.sender.unmapped,
                    at: MonotonicClock.now()
                )
                try send(messages, on: index, group: group, socket)
                for event in events { onEvent(Event(interfaceIndex: index, family: family, event: event)) }
            }
        }
        for index in responders.keys.sorted() {
            try send(responders[index]!.stop(), on: index, group: group, socket)
        }
    }

    private func send(
        _ messages: [MDNSResponder.Outgoing],
        on interface: UInt32,
        group: SocketAddress,
        _ socket: borrowing UDPSocket
    ) throws(UDPError) {
        for outgoing in messages {
            guard let bytes = try? outgoing.message.encoded() else { continue }
            let destination: SocketAddress
            switch outgoing.destination {
            case .multicast: destination = group
            case .unicast(let address): destination = address
            }
            try socket.sendOnLink(bytes, to: destination, interface: interface)
        }
    }
}
