import UDP
import UDPDNS
import UDPDiscovery

/// The engine of `udp announce`: publishes one service by multicast DNS on one address family, one
/// `MDNSResponder` per interface (each with that interface's addresses), from a socket that shares
/// port 5353 with the host's other responders, until stopped; then it says goodbye. It reads the interfaces'
/// addresses again every five seconds, and announces them again when they change.
public struct MDNSAnnounceSession: ~Copyable {
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
    /// Queries and responses that did not decode.
    public private(set) var malformed = 0
    /// Queries from off the link: a hop limit below 255 and a source on none of the interface's networks.
    public private(set) var offLink = 0

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
                guard let message = try? DNSMessage(decoding: buffer[..<info.count]) else {
                    malformed += 1
                    continue
                }
                // Only the link counts (RFC 6762 §11): a response with hop limit 255, which no router forwards;
                // a query with that, or from an address on the interface's networks (a one-shot client's
                // unicast query may have been sent with a lower limit).
                guard let index = info.interfaceIndex, responders[index] != nil else { continue }
                let fromLink = info.hopLimit.map { $0 == 255 } ?? true
                guard fromLink || (!message.isResponse && links.isOnLink(info.sender.ip, interface: index)) else {
                    offLink += 1
                    continue
                }
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
