import UDP
import UDPDNS
import UDPPatterns

// What `udp announce` prints for each event: where the service was announced, or renamed after a conflict.

extension MDNSAnnounceSession.Event {
    /// `announced on eth0 IPv4: Web Server._http._tcp.local port 8080 host box.local 192.0.2.7`, or
    /// `conflict on eth0 IPv4: … is taken, now …`.
    package var text: String {
        let place = announcePlace(interfaceIndex, family)
        switch event {
        case .announced(let service):
            let addresses = service.addresses.map { "\($0)" }.joined(separator: " ")
            return "announced on \(place): \((try? service.instanceName).map { "\($0)" } ?? service.instance) "
                + "port \(service.port) host \(service.host) \(addresses)"
        case .conflict(let from, let to):
            // Names of our own making, but the rename follows what a peer claimed: shown as network text.
            return "conflict on \(place): \(NetworkText(name: from)) is taken, now \(NetworkText(name: to))"
        }
    }
}

extension SSDPAnnounceSession.Event {
    /// `announced on eth0 IPv4: ssdp uuid:… st upnp:rootdevice … location http://…`.
    package var text: String {
        switch kind {
        case .announced(let advertisements):
            // The device's own advertisement is the one whose USN is its bare uuid:.
            let device = advertisements.first { $0.uniqueServiceName == $0.target }?.uniqueServiceName ?? "?"
            let targets = advertisements.map(\.target).filter { $0 != device }.joined(separator: " ")
            return "announced on \(announcePlace(interfaceIndex, family)): ssdp \(device) st \(targets) "
                + "location \(advertisements.first?.location ?? "")"
        }
    }
}

/// `eth0 IPv4`: the interface by name (its index when it has none now) and the family.
private func announcePlace(_ interfaceIndex: UInt32, _ family: AddressFamily) -> String {
    "\(NetworkInterface.name(ofIndex: interfaceIndex) ?? "\(interfaceIndex)") \(family)"
}
