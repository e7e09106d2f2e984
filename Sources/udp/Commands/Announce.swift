import ArgumentParser
import UDP
import UDPDNS
import UDPDiscovery
import UDPTools

#if canImport(Glibc)
import Glibc
#endif

struct Announce: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish a service on the link by multicast DNS (DNS-SD), until Ctrl-C, with no daemon.",
        discussion: """
            Publishes INSTANCE of TYPE at PORT, with KEY=VALUE strings in its TXT record, on every interface \\
            with an address (or those given with --interface), under the host name --host (the machine's name \\
            in .local by default) and each interface's own addresses:

              udp announce 'Web Server' _http._tcp 8080 path=/
              udp announce Printer _ipp._tcp 631 rp=ipp/print --host printer --interface eth0 -4

            It first probes the link for the names (RFC 6762 §8); if one is taken it picks the next, and says so \\
            on a line with `conflict`:

              conflict on eth0 IPv4: Web Server._http._tcp.local is taken, now Web Server (2)._http._tcp.local

            then announces, answers queries, and on SIGINT or SIGTERM sends a goodbye so browsers drop the \\
            service at once. It shares port 5353 with the host's responders (avahi, mDNSResponder).
            """
    )

    @Argument(help: "The instance's name, as people will see it: 'Web Server'.")
    var instance: String

    @Argument(help: "The service type: _http._tcp, _ipp._tcp.")
    var type: String

    @Argument(help: "The port the service listens on.")
    var port: Int

    @Argument(help: "TXT strings, KEY=VALUE (or KEY alone).")
    var txt: [String] = []

    @Option(help: "The host name to publish (box or box.local); the machine's name by default.")
    var host: String?

    @Option(name: .long, help: "Interface to publish on (repeatable); all with an address by default.")
    var interface: [String] = []

    @OptionGroup var family: FamilyOptions

    func validate() throws {
        guard (1...65_535).contains(port) else { throw ValidationError("PORT \(port) is out of range 1-65535") }
        guard !instance.isEmpty, instance.utf8.count <= 63 else {
            throw ValidationError("INSTANCE must be 1 to 63 bytes (got \(instance.utf8.count))")
        }
        guard serviceType != nil else {
            throw ValidationError("'\(type)' is not a service type: write it as _NAME._udp or _NAME._tcp")
        }
        for string in txt where string.utf8.count > 255 || string.hasPrefix("=") {
            throw ValidationError("TXT string '\(string.prefix(20))…' must be KEY=VALUE, at most 255 bytes")
        }
        guard hostName != nil else { throw ValidationError("--host '\(host ?? "")' is not a host name") }
    }

    private var serviceType: DNSName? { serviceTypeName(type) }

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
        let name = String(cString: buffer)
        return String(name.prefix { $0 != "." }).isEmpty ? "swift-udp" : String(name.prefix { $0 != "." })
    }

    func run() throws {
        let service = MDNSService(
            instance: instance,
            type: serviceType!,
            port: UInt16(port),
            txt: txt.map { Array($0.utf8) },
            host: hostName!,
            addresses: []
        )
        let addresses = try NetworkInterface.addresses()
        let named = try interface.map { name throws in try NetworkInterface(named: name).index }
        var plans: [(AddressFamily, [UInt32: [IPAddress]])] = []
        for family in family.families {
            let chosen = linkInterfaces(for: family, named: named, among: addresses)
            if !chosen.isEmpty { plans.append((family, chosen)) }
        }
        guard !plans.isEmpty else { throw RuntimeFailure("no interface to publish on: none is up with an address") }
        let sockets = try plans.map { plan throws(UDPError) in
            SharedUDPSocket(try MDNSBrowseSession.makeSocket(family: plan.0, interfaces: plan.1.keys.sorted()))
        }
        let stop = try StopSignal.catchingInterrupts()
        var threads = WorkerThreads<Result<Void, UDPError>>()
        for (socket, plan) in zip(sockets, plans) {
            try threads.start {
                // One family failing stops the other too, rather than leaving it running without a word.
                stoppingAllOnFailure(stop) { () throws(UDPError) in
                    var session = MDNSAnnounceSession(
                        family: plan.0,
                        service: service,
                        interfaces: plan.1,
                        now: MonotonicClock.now()
                    )
                    try session.run(socket.socket, until: stop) { event in Console.line(Self.describe(event)) }
                }
            }
        }
        for result in threads.join() { try result.get() }
    }

    static func describe(_ event: MDNSAnnounceSession.Event) -> String {
        let place =
            "\(NetworkInterface.name(ofIndex: event.interfaceIndex) ?? "\(event.interfaceIndex)") "
            + (event.family == .inet ? "IPv4" : "IPv6")
        switch event.event {
        case .announced(let service):
            let addresses = service.addresses.map { "\($0)" }.joined(separator: " ")
            return "announced on \(place): \((try? service.instanceName).map { "\($0)" } ?? service.instance) "
                + "port \(service.port) host \(service.host) \(addresses)"
        case .conflict(let from, let to):
            return "conflict on \(place): \(from) is taken, now \(to)"
        }
    }
}
