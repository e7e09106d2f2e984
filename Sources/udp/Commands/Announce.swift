import ArgumentParser
import UDP
import UDPDNS
import UDPDiscovery
import UDPPatterns
import UDPTools

#if canImport(Glibc)
import Glibc
#endif

struct Announce: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish a service on the link by multicast DNS (DNS-SD) or SSDP, until Ctrl-C, with no daemon.",
        discussion: """
            Publishes INSTANCE of TYPE at PORT, with KEY=VALUE strings in its TXT record, on every interface \
            with an address (or those given with --interface), under the host name --host (the machine's name \
            in .local by default) and each interface's own addresses:

              udp announce 'Web Server' _http._tcp 8080 path=/
              udp announce Printer _ipp._tcp 631 rp=ipp/print --host printer --interface eth0 -4

            It first probes the link for the names (RFC 6762 §8); if one is taken it picks the next, and says so \
            on a line with `conflict`:

              conflict on eth0 IPv4: Web Server._http._tcp.local is taken, now Web Server (2)._http._tcp.local

            then announces, answers queries, and on SIGINT or SIGTERM sends a goodbye so browsers drop the \
            service at once. It shares port 5353 with the host's responders (avahi, mDNSResponder).

            With --ssdp it advertises a UPnP device by SSDP instead (no INSTANCE, TYPE or PORT; given those too, \
            it does both): NOTIFY ssdp:alive for upnp:rootdevice, the device's uuid: and --st, answers to \
            M-SEARCH for any of them after a random delay up to the search's MX, and ssdp:byebye when stopped. \
            Only searches from the link are answered. It shares port 1900 with the host's SSDP responders.

              udp announce --ssdp --st urn:schemas-upnp-org:device:MediaServer:1 \\
                  --location http://192.0.2.7:8200/rootDesc.xml
            """
    )

    @Argument(help: "The instance's name, as people will see it: 'Web Server'.")
    var instance: String?

    @Argument(help: "The service type: _http._tcp, _ipp._tcp.")
    var type: String?

    @Argument(help: "The port the service listens on.")
    var port: Int?

    @Argument(help: "TXT strings, KEY=VALUE (or KEY alone).")
    var txt: [String] = []

    @Option(help: "The host name to publish (box or box.local); the machine's name by default.")
    var host: String?

    @OptionGroup var ssdp: SSDPAnnounceOptions

    @Option(name: .long, help: "Interface to publish on (repeatable); all with an address by default.")
    var interface: [String] = []

    @OptionGroup var family: FamilyOptions

    @Flag(help: "Print what was received and dropped, by reason, on standard error at the end.")
    var stats = false

    /// Whether INSTANCE, TYPE and PORT ask for an mDNS announcement.
    private var announcesMDNS: Bool { instance != nil || !ssdp.ssdp }

    func validate() throws {
        if announcesMDNS {
            guard let instance, let type, let port else {
                throw ValidationError("give INSTANCE, TYPE and PORT (or --ssdp with --st and --location for SSDP)")
            }
            guard (1...65_535).contains(port) else { throw ValidationError("PORT \(port) is out of range 1-65535") }
            guard !instance.isEmpty, instance.utf8.count <= 63 else {
                throw ValidationError("INSTANCE must be 1 to 63 bytes (got \(instance.utf8.count))")
            }
            guard serviceTypeName(type) != nil else {
                throw ValidationError("'\(type)' is not a service type: write it as _NAME._udp or _NAME._tcp")
            }
        }
        for string in txt where string.utf8.count > 255 || string.hasPrefix("=") {
            throw ValidationError("TXT string '\(string.prefix(20))…' must be KEY=VALUE, at most 255 bytes")
        }
        guard hostName != nil else { throw ValidationError("--host '\(host ?? "")' is not a host name") }
    }

    /// `box` or `box.local` as `box.local`; the machine's own name (its first label) by default.
    private var hostName: DNSName? {
        var text = host ?? Self.machineName
        if text.hasSuffix(".") { text.removeLast() }
        if !text.hasSuffix(".local") { text += ".local" }
        guard let name = DNSName(text), name.labels.count == 2 else { return nil }
        return name
    }

    private static var machineName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "swift-udp" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let label = name.prefix { $0 != "." }
        return label.isEmpty ? "swift-udp" : String(label)
    }

    func run() throws {
        let addresses = try NetworkInterface.addresses()
        let named = try interface.map { name throws in try NetworkInterface(named: name).index }
        var plans: [(AddressFamily, [UInt32: [InterfaceAddress]])] = []
        for family in family.families {
            let chosen = linkInterfaces(for: family, named: named, among: addresses)
            if !chosen.isEmpty { plans.append((family, chosen)) }
        }
        guard !plans.isEmpty else { throw RuntimeFailure("no interface to publish on: none is up with an address") }
        let stop = try StopSignal.catchingInterrupts()
        var threads = WorkerThreads<Result<Void, UDPError>>()
        if announcesMDNS { try startMDNS(plans, stop: stop, threads: &threads) }
        if ssdp.ssdp { try startSSDP(plans, stop: stop, threads: &threads) }
        for result in threads.join() { try result.get() }
    }

    private func startMDNS(
        _ plans: [(AddressFamily, [UInt32: [InterfaceAddress]])],
        stop: StopSignal,
        threads: inout WorkerThreads<Result<Void, UDPError>>
    ) throws {
        let service = MDNSService(
            instance: instance!,
            type: serviceTypeName(type!)!,
            port: UInt16(port!),
            txt: txt.map { Array($0.utf8) },
            host: hostName!,
            addresses: []
        )
        let stats = stats
        try startPerFamily(
            plans,
            stop: stop,
            threads: &threads,
            open: { plan throws(UDPError) in
                SharedUDPSocket(
                    try UDPSocket.multicastDNS(
                        group: MDNSAnnounceSession.group(plan.0).ip,
                        port: MDNSAnnounceSession.port,
                        interfaces: plan.1.keys.sorted()
                    )
                )
            },
            session: { plan, socket throws(UDPError) in
                var session = MDNSAnnounceSession(
                    family: plan.0,
                    service: service,
                    interfaces: plan.1,
                    at: .now(),
                    addresses: readLinkAddresses
                )
                try Self.drive(&session, on: socket, until: stop, stopping: { $0.stop(at: $1) }) { event in
                    Console.line(Self.describe(event))
                }
                if stats { Console.error("udp: mdns \(Discover.familyName(plan.0)): \(session.counters)") }
            }
        )
    }

    private func startSSDP(
        _ plans: [(AddressFamily, [UInt32: [InterfaceAddress]])],
        stop: StopSignal,
        threads: inout WorkerThreads<Result<Void, UDPError>>
    ) throws {
        let advertisements = SSDPResponder.advertisements(
            uuid: ssdp.uuid ?? randomUUID(),
            type: ssdp.st!,
            location: ssdp.location!,
            server: "Linux UPnP/1.1 swift-udp/\(UDPCommand.version)",
            maximumAge: ssdp.maxAge
        )
        let stats = stats
        try startPerFamily(
            plans,
            stop: stop,
            threads: &threads,
            open: { plan throws(UDPError) in
                // The port shared with the host's SSDP responders; a multicast TTL of 2, as UPnP says.
                let socket = try UDPSocket.linkGroup(
                    SSDPAnnounceSession.group(plan.0).ip,
                    port: SSDPAnnounceSession.port,
                    interfaces: plan.1.keys.sorted(),
                    hops: 2
                )
                return SharedUDPSocket(socket)
            },
            session: { plan, socket throws(UDPError) in
                var session = SSDPAnnounceSession(
                    family: plan.0,
                    advertisements: advertisements,
                    interfaces: plan.1,
                    at: .now(),
                    addresses: readLinkAddresses
                )
                try Self.drive(&session, on: socket, until: stop, stopping: { $0.stop(at: $1) }) { event in
                    Console.line(Self.describe(event))
                }
                if stats { Console.error("udp: ssdp \(Discover.familyName(plan.0)): \(session.counters)") }
            }
        )
    }

    /// Runs `machine` on `socket` until `stop` is raised, then has it queue its goodbyes (`stopping`) and sends
    /// them before returning.
    private static func drive<Machine: DatagramMachine>(
        _ machine: inout Machine,
        on socket: SharedUDPSocket,
        until stop: StopSignal,
        stopping: (inout Machine, MonotonicInstant) -> Void,
        onEvent: (Machine.Event) -> Void
    ) throws(UDPError) {
        // 9000 bytes: a jumbo frame, the largest datagram the engines ever read whole on a link.
        let driver = MachineDriver(stop: stop, receiveBufferSize: 9_000)
        try driver.run(&machine, on: socket.socket, onEvent: onEvent)
        stopping(&machine, .now())
        try driver.flush(&machine, on: socket.socket, onEvent: onEvent)
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

/// `udp announce --ssdp`'s options.
struct SSDPAnnounceOptions: ParsableArguments {
    @Flag(help: "Advertise a UPnP device by SSDP (with --st and --location).")
    var ssdp = false

    @Option(help: "The device or service type to advertise: urn:schemas-upnp-org:device:MediaServer:1.")
    var st: String?

    @Option(help: "The URL of the device description, sent as LOCATION.")
    var location: String?

    @Option(help: "The device's UUID (without uuid:); a random one by default.")
    var uuid: String?

    @Option(help: "Seconds the advertisement stays valid (CACHE-CONTROL max-age; re-announced before half).")
    var maxAge = 1_800

    func validate() throws {
        guard ssdp else {
            guard st == nil, location == nil, uuid == nil else {
                throw ValidationError("--st, --location and --uuid go with --ssdp")
            }
            return
        }
        guard let st, !st.isEmpty, st.utf8.count <= 256, st.allSatisfy(Self.isHeaderCharacter), !st.contains(" ")
        else {
            throw ValidationError("--ssdp needs --st TYPE: a URN such as urn:schemas-upnp-org:device:MediaServer:1")
        }
        guard let location, location.hasPrefix("http://") || location.hasPrefix("https://"),
            location.utf8.count <= 1_024, location.allSatisfy(Self.isHeaderCharacter), !location.contains(" ")
        else { throw ValidationError("--ssdp needs --location URL: the http:// address of the device description") }
        if let uuid {
            guard !uuid.isEmpty, uuid.utf8.count <= 128, uuid.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
                throw ValidationError("--uuid '\(uuid)' is not a UUID: hexadecimal digits and dashes")
            }
        }
        guard (60...86_400).contains(maxAge) else {
            throw ValidationError("--max-age must be 60 to 86400 seconds (got \(maxAge))")
        }
    }

    /// Printable ASCII: what a header value may hold without breaking the message.
    private static func isHeaderCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.asciiValue! >= 0x21 && character.asciiValue! < 0x7F)
    }
}

/// A random (version 4) UUID, as text.
func randomUUID() -> String {
    var bytes = (0..<16).map { _ in UInt8.random(in: 0...255) }
    bytes[6] = bytes[6] & 0x0F | 0x40
    bytes[8] = bytes[8] & 0x3F | 0x80
    return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { PayloadFormat.hex(bytes[$0]) }.joined(separator: "-")
}

/// Every interface's addresses now, by index, or nil when they cannot be read: what the announce machines read
/// every five seconds to follow an address change (the one `getifaddrs` they must not call themselves).
@Sendable func readLinkAddresses() -> [UInt32: [InterfaceAddress]]? {
    guard let addresses = try? NetworkInterface.addresses() else { return nil }
    return Dictionary(grouping: addresses, by: \.interfaceIndex)
}
