import UDP
import UDPDNS
import UDPDiscovery
import UDPTools

// What `udp discover` prints for each event: a text line or a JSON object, every field a peer chose shown as
// NetworkText, so that nothing on the link can drive the terminal.

extension Discover {
    /// The line for an event of either protocol's sessions: JSON or text.
    static func line(_ event: Sessions.Event, json: Bool) -> String {
        switch event {
        case .first(let mdns): json ? jsonLine(mdns.event) : textLine(mdns.event)
        case .second(let ssdp): json ? jsonLine(ssdp.event) : textLine(ssdp.event)
        }
    }

    private static func fields(_ event: MDNSBrowseSession.Event) -> (String, String, DNSSDBrowser.Instance) {
        let instance: DNSSDBrowser.Instance
        let mark: String
        switch event.change {
        case .appeared(let value): (mark, instance) = ("+", value)
        case .resolved(let value): (mark, instance) = ("=", value)
        case .removed(let value): (mark, instance) = ("-", value)
        }
        return (mark, NetworkInterface.name(ofIndex: event.interfaceIndex) ?? "\(event.interfaceIndex)", instance)
    }

    /// An instance's fields that a peer chose, each as ``NetworkText``: the names in ``DNSName``'s text form
    /// (`\DDD` for a byte that is not printable), TXT strings as bytes.
    private struct InstanceText {
        var instance: NetworkText
        var type: NetworkText
        var domain: NetworkText
        var host: NetworkText?
        var txt: [NetworkText]
        /// TXT as keys and values (RFC 6763 §6.3-6.4); a key alone has no value.
        var attributes: [(key: NetworkText, value: NetworkText?)]

        init(_ instance: DNSSDBrowser.Instance) {
            self.instance = NetworkText(instance.instanceName)
            type = NetworkText(instance.serviceType)
            domain = NetworkText(instance.domain)
            host = instance.host.map(NetworkText.init(name:))
            txt = (instance.txt ?? []).map(NetworkText.init(bytes:))
            attributes = instance.txtAttributes.map { (NetworkText($0.key), $0.value.map(NetworkText.init(bytes:))) }
        }
    }

    static func textLine(_ event: MDNSBrowseSession.Event) -> String {
        let (mark, interface, instance) = fields(event)
        let text = InstanceText(instance)
        var line = "\(mark) \(interface) \(event.family == .inet ? "IPv4" : "IPv6") \(text.instance) "
        line += "\(text.type) \(text.domain)"
        guard case .resolved = event.change else { return line }
        line += " host \(text.host.map { "\($0)" } ?? "?")"
        for address in instance.addresses { line += " address \(address)" }
        line += " port \(instance.port ?? 0)"
        for string in text.txt { line += " txt " + string.quoted }
        return line
    }

    static func jsonLine(_ event: MDNSBrowseSession.Event) -> String {
        let (_, interface, instance) = fields(event)
        let text = InstanceText(instance)
        var object = JSONObject()
        object.add("protocol", "mdns")
        switch event.change {
        case .appeared: object.add("event", "new")
        case .resolved: object.add("event", "resolved")
        case .removed: object.add("event", "removed")
        }
        object.add("interface", interface)
        object.add("family", familyName(event.family))
        object.add("instance", text.instance)
        object.add("type", text.type)
        object.add("domain", text.domain)
        object.add("host", text.host)
        object.addRaw(
            "addresses",
            "[" + instance.addresses.map { JSONObject.quoted("\($0)") }.joined(separator: ", ") + "]"
        )
        if let port = instance.port { object.add("port", Int(port)) } else { object.add("port", nil as String?) }
        let txt = text.attributes.map { attribute in attribute.key.json + ": " + (attribute.value?.json ?? "true") }
        object.addRaw("txt", "{" + txt.joined(separator: ", ") + "}")
        return object.text
    }
}

extension Discover {
    private static func fields(_ event: SSDPSearchSession.Event) -> (String, String, SSDPAdvertisement) {
        let interface = NetworkInterface.name(ofIndex: event.interfaceIndex) ?? "\(event.interfaceIndex)"
        switch event.change {
        case .appeared(let advertisement): return ("+", interface, advertisement)
        case .removed(let advertisement): return ("-", interface, advertisement)
        }
    }

    /// An advertisement's headers, each as ``NetworkText``: every one of them is what a peer sent.
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

    static func textLine(_ event: SSDPSearchSession.Event) -> String {
        let (mark, interface, advertisement) = fields(event)
        let text = AdvertisementText(advertisement)
        var line = "\(mark) \(interface) \(event.family) ssdp \(text.usn)"
        line += " st \(text.target)"
        if let location = text.location { line += " location \(location)" }
        if let server = text.server { line += " server " + server.quoted }
        return line
    }

    static func jsonLine(_ event: SSDPSearchSession.Event) -> String {
        let (mark, interface, advertisement) = fields(event)
        let text = AdvertisementText(advertisement)
        var object = JSONObject()
        object.add("protocol", "ssdp")
        object.add("event", mark == "+" ? "new" : "removed")
        object.add("interface", interface)
        object.add("family", familyName(event.family))
        object.add("usn", text.usn)
        object.add("st", text.target)
        object.add("location", text.location)
        object.add("server", text.server)
        return object.text
    }
}
