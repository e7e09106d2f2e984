import ArgumentParser
import UDP
import UDPDNS
import UDPDiscovery
import UDPPatterns
import UDPTools

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
            guard DNSName.serviceType(type) != nil else {
                throw ValidationError("'\(type)' is not a service type: write it as _NAME._udp or _NAME._tcp")
            }
        }
        for string in txt where string.utf8.count > 255 || string.hasPrefix("=") {
            throw ValidationError("TXT string '\(string.prefix(20))…' must be KEY=VALUE, at most 255 bytes")
        }
        guard hostName != nil else { throw ValidationError("--host '\(host ?? "")' is not a host name") }
    }

    /// `box` or `box.local` as `box.local`; the machine's own name (its first label) by default.
    private var hostName: DNSName? { DNSName.localHost(host ?? DNSName.machineName) }

    /// Every session, mDNS's before SSDP's (a socket each), as one machine for one driver.
    typealias Sessions = MachinePair<MachineGroup<MDNSAnnounceSession>, MachineGroup<SSDPAnnounceSession>>

    func run() throws {
        let addresses = try NetworkInterface.addresses()
        let named = try interface.map { name throws in try NetworkInterface(named: name).index }
        var links: [(family: AddressFamily, interfaces: [UInt32: [InterfaceAddress]])] = []
        for family in family.families {
            let chosen = NetworkInterface.linkInterfaces(for: family, named: named, among: addresses)
            if !chosen.isEmpty { links.append((family, chosen)) }
        }
        guard !links.isEmpty else { throw RuntimeFailure("no interface to publish on: none is up with an address") }
        let stop = try StopSignal.catchingInterrupts()
        var sockets: [SharedUDPSocket] = []
        var sessions = try open(links, sockets: &sockets)
        // 9000 bytes: a jumbo frame, the largest datagram the engines ever read whole on a link.
        let driver = MachineDriver(stop: stop, receiveBufferSize: 9_000)
        let onEvent = { (event: Sessions.Event) in
            switch event {
            case .first(let mdns): Console.line(mdns.event.text)
            case .second(let ssdp): Console.line(ssdp.event.text)
            }
        }
        let ran = Result { () throws(UDPError) in try driver.run(&sessions, on: sockets, onEvent: onEvent) }
        // Stopped (or failed): every session queues its goodbyes, which go out before the end.
        let now = MonotonicInstant.now()
        for index in sessions.first.members.indices { sessions.first.members[index].stop(at: now) }
        for index in sessions.second.members.indices { sessions.second.members[index].stop(at: now) }
        let flushed = Result { () throws(UDPError) in try driver.flush(&sessions, on: sockets, onEvent: onEvent) }
        if stats { printCounters(of: sessions) }
        _ = try ran.get()
        try flushed.get()
    }

    /// Each family's sessions, with their sockets added to `sockets` in the sessions' order: every one opened
    /// before anything is sent, so that a port in use or a failed join is reported first.
    private func open(
        _ links: [(family: AddressFamily, interfaces: [UInt32: [InterfaceAddress]])],
        sockets: inout [SharedUDPSocket]
    ) throws -> Sessions {
        var mdnsSessions = MachineGroup<MDNSAnnounceSession>([])
        var ssdpSessions = MachineGroup<SSDPAnnounceSession>([])
        let reader = NetworkInterface.addressesByIndex
        let now = MonotonicInstant.now()
        if announcesMDNS {
            let service = MDNSService(
                instance: instance!,
                type: DNSName.serviceType(type!)!,
                port: UInt16(port!),
                txt: txt.map { Array($0.utf8) },
                host: hostName!,
                addresses: []
            )
            for (family, interfaces) in links {
                let group = MDNSAnnounceSession.group(family).ip
                let indices = interfaces.keys.sorted()
                let port = MDNSAnnounceSession.port
                sockets.append(SharedUDPSocket(try .multicastDNS(group: group, port: port, interfaces: indices)))
                mdnsSessions.members.append(
                    .init(family: family, service: service, interfaces: interfaces, at: now, addresses: reader)
                )
            }
        }
        if ssdp.ssdp {
            let advertised = SSDPResponder.advertisements(
                uuid: ssdp.uuid ?? SSDPResponder.randomUUID(),
                type: ssdp.st!,
                location: ssdp.location!,
                server: "Linux UPnP/1.1 swift-udp/\(UDPCommand.version)",
                maximumAge: ssdp.maxAge
            )
            for (family, interfaces) in links {
                // The port shared with the host's SSDP responders; a multicast TTL of 2, as UPnP says.
                let group = SSDPAnnounceSession.group(family).ip
                let port = SSDPAnnounceSession.port
                let indices = interfaces.keys.sorted()
                sockets.append(SharedUDPSocket(try .linkGroup(group, port: port, interfaces: indices, hops: 2)))
                ssdpSessions.members.append(
                    .init(
                        family: family,
                        advertisements: advertised,
                        interfaces: interfaces,
                        at: now,
                        addresses: reader
                    )
                )
            }
        }
        return MachinePair(mdnsSessions, ssdpSessions, firstSocketCount: mdnsSessions.socketCount)
    }
}
