import ArgumentParser
import UDP
import UDPDNS
import UDPDiscovery
import UDPPatterns
import UDPTools

struct Discover: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Find services on the link by multicast DNS (DNS-SD) or SSDP, as avahi-browse -r does, with no daemon.",
        discussion: """
            Without TYPE, every service type on the link (the _services._dns-sd._udp.local meta-query); with \
            TYPE (`_http._tcp`, `_ipp._tcp`), that type only. Each instance is resolved (SRV, TXT, addresses) \
            and printed as it comes, on each interface and family it is seen on:

              + eth0 IPv4 Web Server _http._tcp local
              = eth0 IPv4 Web Server _http._tcp local host box.local address 192.0.2.7 port 8080 txt "path=/"
              - eth0 IPv4 Web Server _http._tcp local

            `+` when an instance appears, `=` when it is resolved (and again when that changes), `-` when it \
            leaves. After --timeout seconds (3) it stops; --watch keeps listening until Ctrl-C. --json prints \
            one object per line instead, with `protocol` ("mdns"), `event` ("new", "resolved", "removed"), \
            `interface`, `family`, `instance`, `type`, `domain`, `host`, `addresses`, `port` and `txt` (an \
            object).

              udp discover
              udp discover _ipp._tcp --interface eth0 -4 --json

            It shares port 5353 with the host's responders (avahi, mDNSResponder) and believes only responses \
            from the link (source port 5353, hop limit 255).

            --ssdp searches for UPnP devices by SSDP instead (M-SEARCH for --st, ssdp:all by default, and the \
            NOTIFY announcements on port 1900), one event per device or service (USN) and interface; --all does \
            both. JSON has `usn`, `st`, `location` and `server` for SSDP:

              + eth0 IPv4 ssdp uuid:2f4…::upnp:rootdevice st upnp:rootdevice location http://192.0.2.7:8200/ \
            server "Linux UPnP/1.1 MiniDLNA/1.3"
              udp discover --ssdp --st urn:schemas-upnp-org:device:MediaServer:1

            Every name, TXT string and header is what a peer sent, shown as received when it is printable and \
            escaped when it is not, so that nothing on the link can drive the terminal: `\\x1b` for ESC in TXT \
            and SSDP headers, `\\027` in names (as avahi-browse and dig write them). JSON has TXT strings and \
            headers as sent, control characters as `\\u001b`, and names in the same `\\027` form. --stats prints \
            what each session received and dropped, on stderr, at the end.

            Exit status: 0 when something was found, 1 when nothing was.
            """
    )

    @Argument(help: ArgumentHelp("Service type, such as _http._tcp; all types when left out.", valueName: "type"))
    var type: String?

    @Option(name: [.customShort("W"), .long], help: "Seconds to listen before stopping (without --watch).")
    var timeout: Double = 3

    @Flag(help: "Keep listening, printing instances as they come and go, until Ctrl-C.")
    var watch = false

    @Option(name: .long, help: "Interface to browse on (repeatable); all with an address of the family by default.")
    var interface: [String] = []

    @OptionGroup var family: FamilyOptions

    @Flag(help: "Search by SSDP (UPnP) instead of mDNS.")
    var ssdp = false

    @Flag(help: "Search by both mDNS and SSDP.")
    var all = false

    @Option(help: "SSDP search target: ssdp:all, upnp:rootdevice, uuid:…, or a device or service type URN.")
    var st: String?

    @Flag(help: "Print one JSON object per line.")
    var json = false

    @Flag(help: "Print what was received and dropped, by reason, on standard error at the end.")
    var stats = false

    func validate() throws {
        guard timeout > 0, timeout <= 86_400 else {
            throw ValidationError("--timeout must be above 0 seconds, at most a day (got \(timeout))")
        }
        if let type, DNSName.serviceType(type) == nil {
            throw ValidationError("'\(type)' is not a service type: write it as _NAME._udp or _NAME._tcp")
        }
        guard !(ssdp && all) else { throw ValidationError("--ssdp and --all exclude each other: --all is both") }
        if ssdp, type != nil { throw ValidationError("TYPE is an mDNS service type: with --ssdp, use --st") }
        if let st {
            guard ssdp || all else { throw ValidationError("--st goes with --ssdp or --all") }
            guard !st.isEmpty, st.utf8.count <= 256, st.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw ValidationError(
                    "--st '\(st.prefix(40))' is not a search target: ssdp:all, upnp:rootdevice or a URN"
                )
            }
        }
    }

    /// Every session, mDNS's (a socket each) before SSDP's (two each), as one machine for one driver.
    typealias Sessions = MachinePair<MachineGroup<MDNSBrowseSession>, MachineGroup<SSDPSearchSession>>

    func run() throws {
        var links: [(family: AddressFamily, interfaces: [UInt32])] = []
        for family in family.families {
            let chosen = try interfaces(for: family)
            if !chosen.isEmpty { links.append((family, chosen)) }
        }
        guard !links.isEmpty else { throw RuntimeFailure("no interface to browse on: none is up with an address") }
        let stop = try StopSignal.catchingInterrupts()
        var sockets: [SharedUDPSocket] = []
        var sessions = try open(links, sockets: &sockets)
        let deadline = watch ? nil : MonotonicInstant.now() + .seconds(timeout)
        var found = 0
        // 9000 bytes: a jumbo frame, the largest datagram the sessions read whole; a longer one arrives truncated.
        let driver = MachineDriver(stop: stop, receiveBufferSize: 9_000)
        let ran = Result { () throws(UDPError) in
            try driver.run(&sessions, on: sockets, until: deadline) { event in
                found += 1
                switch event {
                case .first(let mdns): Console.line(json ? mdns.event.json : mdns.event.text)
                case .second(let ssdp): Console.line(json ? ssdp.event.json : ssdp.event.text)
                }
            }
        }
        if stats { printCounters(of: sessions) }
        _ = try ran.get()
        if found == 0 { throw ExitCode.failure }
    }

    /// Each family's sessions, with their sockets added to `sockets` in the sessions' order: every one opened
    /// before anything is sent, so that a port in use or a failed join is reported first.
    private func open(
        _ links: [(family: AddressFamily, interfaces: [UInt32])],
        sockets: inout [SharedUDPSocket]
    ) throws -> Sessions {
        var mdns = MachineGroup<MDNSBrowseSession>([])
        var ssdp = MachineGroup<SSDPSearchSession>([], socketsPerMember: SSDPSearchSession.socketCount)
        var generator = SystemRandomNumberGenerator()
        let types = type.flatMap(DNSName.serviceType).map { [$0] }
        for (family, interfaces) in links where !self.ssdp {
            let group = MDNSBrowseSession.group(family)
            sockets.append(SharedUDPSocket(try .multicastDNS(group: group, interfaces: interfaces)))
            mdns.members.append(
                .init(family: family, types: types, interfaces: interfaces, startingAt: .now(), using: &generator)
            )
        }
        for (family, interfaces) in links where self.ssdp || all {
            let group = SSDPSearchSession.group(family)
            let hops = SSDPSearchSession.hops
            let port = SSDPSearchSession.port
            sockets += try UDPSocket.ssdpControlPoint(group: group, port: port, interfaces: interfaces, hops: hops)
            let target = st ?? "ssdp:all"
            ssdp.members.append(
                .init(family: family, target: target, interfaces: interfaces, startingAt: .now(), using: &generator)
            )
        }
        return MachinePair(mdns, ssdp, firstSocketCount: mdns.socketCount)
    }

    /// The interfaces named, or else those with an address of `family` (`NetworkInterface.linkInterfaces`).
    private func interfaces(for family: AddressFamily) throws -> [UInt32] {
        if !interface.isEmpty { return try interface.map { name throws in try NetworkInterface(named: name).index } }
        return NetworkInterface.linkInterfaces(for: family, among: try NetworkInterface.addresses()).keys.sorted()
    }
}
