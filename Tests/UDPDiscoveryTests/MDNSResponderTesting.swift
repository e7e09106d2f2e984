import UDP
import UDPDNS

@testable import UDPDiscovery

/// The instant `milliseconds` after the fake clock's zero.
func responderTime(_ milliseconds: Int64) -> MonotonicInstant { .zero + .milliseconds(milliseconds) }

extension MDNSResponder {
    /// Everything the last inputs queued, taken: what it would send, and what it said.
    mutating func taken() -> (messages: [Outgoing], events: [Event]) {
        var messages: [Outgoing] = []
        var events: [Event] = []
        while let message = pollOutgoing() { messages.append(message) }
        while let event = pollEvent() { events.append(event) }
        return (messages, events)
    }

    /// The passing of `now`, and what it queued.
    mutating func poll(at now: MonotonicInstant) -> (messages: [Outgoing], events: [Event]) {
        handleTimeout(at: now)
        return taken()
    }

    /// `message` heard from `source` at `now`, and what it queued.
    mutating func take(
        _ message: DNSMessage,
        from source: SocketAddress,
        at now: MonotonicInstant
    ) -> (messages: [Outgoing], events: [Event]) {
        receive(message, from: source, at: now)
        return taken()
    }
}

extension SSDPResponder {
    /// The passing of `now`, and what it queued.
    mutating func poll(at now: MonotonicInstant) -> [Outgoing] {
        handleTimeout(at: now)
        var messages: [Outgoing] = []
        while let message = pollOutgoing() { messages.append(message) }
        return messages
    }
}

extension MDNSResponder {
    /// The addresses as they are at `now`, and what that queued.
    mutating func updated(addresses: [IPAddress], at now: MonotonicInstant) -> [Outgoing] {
        update(addresses: addresses, at: now)
        return taken().messages
    }
}
