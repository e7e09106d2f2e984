import UDP
import UDPDNS
import UDPDiscovery

// What `udp announce` prints for each event: where the service was announced, or renamed after a conflict.

extension Announce {
    /// The line for an event of either protocol's sessions.
    static func describe(_ event: Sessions.Event) -> String {
        switch event {
        case .first(let mdns): describe(mdns.event)
        case .second(let ssdp): describe(ssdp.event)
        }
    }

    private static func place(_ interfaceIndex: UInt32, _ family: AddressFamily) -> String {
        "\(NetworkInterface.name(ofIndex: interfaceIndex) ?? "\(interfaceIndex)") \(family)"
    }

    static func describe(_ event: MDNSAnnounceSession.Event) -> String {
        let place = place(event.interfaceIndex, event.family)
        switch event.event {
        case .announced(let service):
            let addresses = service.addresses.map { "\($0)" }.joined(separator: " ")
            return "announced on \(place): \((try? service.instanceName).map { "\($0)" } ?? service.instance) "
                + "port \(service.port) host \(service.host) \(addresses)"
        case .conflict(let from, let to):
            // Names of our own making, but the rename follows what a peer claimed: shown as network text.
            return "conflict on \(place): \(NetworkText(name: from)) is taken, now \(NetworkText(name: to))"
        }
    }

    static func describe(_ event: SSDPAnnounceSession.Event) -> String {
        switch event.kind {
        case .announced(let advertisements):
            // The device's own advertisement is the one whose USN is its bare uuid:.
            let device = advertisements.first { $0.uniqueServiceName == $0.target }?.uniqueServiceName ?? "?"
            let targets = advertisements.map(\.target).filter { $0 != device }.joined(separator: " ")
            return "announced on \(place(event.interfaceIndex, event.family)): ssdp \(device) st \(targets) "
                + "location \(advertisements.first?.location ?? "")"
        }
    }
}
