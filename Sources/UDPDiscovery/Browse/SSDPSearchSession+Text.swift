import UDP
import UDPPatterns

// What `udp discover --ssdp` prints for an event: every header is what a peer sent, shown as NetworkText.

extension SSDPSearchSession.Event {
    /// `+ eth0 IPv4 ssdp uuid:…::upnp:rootdevice st upnp:rootdevice location http://… server "…"`.
    package var text: String {
        let (mark, interface, advertisement) = fields
        let text = AdvertisementText(advertisement)
        var line = "\(mark) \(interface) \(family) ssdp \(text.usn)"
        line += " st \(text.target)"
        if let location = text.location { line += " location \(location)" }
        if let server = text.server { line += " server " + server.quoted }
        return line
    }

    /// The event as one JSON object: `protocol`, `event`, `interface`, `family`, `usn`, `st`, `location`, `server`.
    package var json: String {
        let (mark, interface, advertisement) = fields
        let text = AdvertisementText(advertisement)
        var object = JSONObject()
        object.add("protocol", "ssdp")
        object.add("event", mark == "+" ? "new" : "removed")
        object.add("interface", interface)
        object.add("family", family.lowercasedName)
        object.add("usn", text.usn)
        object.add("st", text.target)
        object.add("location", text.location)
        object.add("server", text.server)
        return object.text
    }

    /// The change's mark (`+`, `-`), the interface's name and the advertisement.
    private var fields: (String, String, SSDPAdvertisement) {
        let interface = NetworkInterface.name(ofIndex: interfaceIndex) ?? "\(interfaceIndex)"
        switch change {
        case .appeared(let advertisement): return ("+", interface, advertisement)
        case .removed(let advertisement): return ("-", interface, advertisement)
        }
    }
}

/// An advertisement's headers, each as `NetworkText`: every one of them is what a peer sent.
private struct AdvertisementText {
    var usn: NetworkText
    var target: NetworkText
    var location: NetworkText?
    var server: NetworkText?

    init(_ advertisement: SSDPAdvertisement) {
        usn = NetworkText(advertisement.uniqueServiceName)
        target = NetworkText(advertisement.target)
        location = advertisement.location.map(NetworkText.init)
        server = advertisement.server.map(NetworkText.init)
    }
}
