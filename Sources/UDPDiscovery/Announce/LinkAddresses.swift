import UDP

/// The addresses of the interfaces a responder works on, read again every few seconds so that it follows a
/// change (DHCP renewing to a new address, an IPv6 address added): what it publishes and whose queries it
/// answers stay right without a restart.
///
/// Reading them is I/O (`getifaddrs`), which a machine must not do: the reading is injected as a closure that
/// the machine calls when its own refresh deadline passes. A closure rather than a need the machine emits and an
/// answer its driver hands back, because the driver knows nothing of interfaces, and a closure keeps the
/// refresh inside the machine's one timeout, where a test replaces it with a fake that returns what it likes.
struct LinkAddresses: Sendable {
    /// How often the addresses are read again: one `getifaddrs`, cheap.
    static let checkInterval = Duration.seconds(5)

    /// Each interface, by index, with its addresses.
    private(set) var links: [UInt32: [InterfaceAddress]]
    /// When ``refresh(at:)`` next reads the addresses.
    private(set) var nextCheck: MonotonicInstant
    /// Reads every interface's addresses, by index; nil when they could not be read (nothing changes then).
    private let read: @Sendable () -> [UInt32: [InterfaceAddress]]?

    init(
        _ links: [UInt32: [InterfaceAddress]],
        at now: MonotonicInstant,
        reading read: @escaping @Sendable () -> [UInt32: [InterfaceAddress]]?
    ) {
        self.links = links
        self.read = read
        nextCheck = now + Self.checkInterval
    }

    /// Reads the addresses again when a check is due; returns the interfaces whose addresses changed.
    mutating func refresh(at now: MonotonicInstant) -> [UInt32] {
        guard now >= nextCheck else { return [] }
        nextCheck = now + Self.checkInterval
        guard let all = read() else { return [] }
        var changed: [UInt32] = []
        for index in links.keys.sorted() {
            let current = all[index] ?? []
            if current != links[index] {
                links[index] = current
                changed.append(index)
            }
        }
        return changed
    }

    /// Whether `source` is on the link of `interface`: on one of its networks, or IPv6 link-local. A responder
    /// answers only such sources (RFC 6762 §11; SSDP the same, being an amplifier otherwise).
    func isOnLink(_ source: IPAddress, interface: UInt32) -> Bool {
        if case .v6(let address) = source.unmapped, address.isLinkLocal { return true }
        return links[interface]?.contains { $0.isOnSameNetwork(as: source) } ?? false
    }
}
