import UDP
import UDPDNS
import UDPPatterns

// What `udp discover` prints for an mDNS event: a text line or a JSON object, every field a peer chose shown as
// NetworkText, so that nothing on the link can drive the terminal.

extension MDNSBrowseSession.Event {
    /// `+ eth0 IPv4 Web Server _http._tcp local`, and for a resolved instance its host, addresses, port and TXT.
    package var text: String {
        let (mark, interface, instance) = fields
        let text = InstanceText(instance)
        var line = "\(mark) \(interface) \(family == .inet ? "IPv4" : "IPv6") \(text.instance) "
        line += "\(text.type) \(text.domain)"
        guard case .resolved = change else { return line }
        line += " host \(text.host.map { "\($0)" } ?? "?")"
        for address in instance.addresses { line += " address \(address)" }
        line += " port \(instance.port ?? 0)"
        for string in text.txt { line += " txt " + string.quoted }
        return line
    }

    /// The event as one JSON object: `protocol`, `event`, `interface`, `family`, `instance`, `type`, `domain`,
    /// `host`, `addresses`, `port` and `txt` (an object of keys and values).
    package var json: String {
        let (_, interface, instance) = fields
        let text = InstanceText(instance)
        var object = JSONObject()
        object.add("protocol", "mdns")
        switch change {
        case .appeared: object.add("event", "new")
        case .resolved: object.add("event", "resolved")
        case .removed: object.add("event", "removed")
        }
        object.add("interface", interface)
        object.add("family", family.lowercasedName)
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

    /// The change's mark (`+`, `=`, `-`), the interface's name and the instance.
    private var fields: (String, String, DNSSDBrowser.Instance) {
        let instance: DNSSDBrowser.Instance
        let mark: String
        switch change {
        case .appeared(let value): (mark, instance) = ("+", value)
        case .resolved(let value): (mark, instance) = ("=", value)
        case .removed(let value): (mark, instance) = ("-", value)
        }
        return (mark, NetworkInterface.name(ofIndex: interfaceIndex) ?? "\(interfaceIndex)", instance)
    }
}

/// An instance's fields that a peer chose, each as `NetworkText`: the names in `DNSName`'s text form
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
