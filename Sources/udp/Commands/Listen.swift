import ArgumentParser
import UDP
import UDPPatterns
import UDPTools

struct Listen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Receive datagrams from any number of peers and show each one.",
        discussion: """
            The tutorial's multi-peer receive loop: one socket serves every peer. The first line on stdout is \
            `listening on udp/PORT`; then one line per datagram,

              from 127.0.0.1:40112 #3: hello

            with the sender, how many datagrams that sender has sent so far, and the payload (text when it is \
            printable UTF-8, escaped otherwise, hex with --hex). A datagram longer than --buffer is shown \
            truncated, with its real length: never silently cut. On SIGINT or SIGTERM it prints a summary per \
            peer and exits 0. At most --max-peers peers are tracked; past that the least recently seen are \
            forgotten (their counts go to the summary's `other peers` line), so a flood of forged source \
            addresses cannot exhaust memory.

            --join GROUP joins a multicast group (repeatable), on --interface (a name, an index, or for IPv4 \
            one of its addresses), from --source only if given (source-specific multicast):

              udp listen --port 5000 --join 239.1.2.3 --interface eth1
            """
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var key: KeyOptions

    @Option(help: ArgumentHelp("Multicast group to join (repeatable).", valueName: "group"))
    var join: [String] = []

    @Option(
        help: ArgumentHelp(
            "Interface for --join: a name, an index, or (IPv4) one of its addresses.",
            valueName: "interface"
        )
    )
    var interface: String?

    @Option(help: ArgumentHelp("With --join, accept only datagrams from this source address.", valueName: "address"))
    var source: String?

    @Option(help: "Receive buffer for one datagram, in bytes; longer datagrams are shown truncated.")
    var buffer: Int = 65_535

    @Option(help: "The most peers counted at once.")
    var maxPeers: Int = 4096

    @Flag(help: "Show payloads as hex.")
    var hex = false

    func validate() throws {
        guard (1...16 * 1024 * 1024).contains(buffer) else {
            throw ValidationError("--buffer \(buffer) is out of range 1-16777216")
        }
        guard (1...10_000_000).contains(maxPeers) else { throw ValidationError("--max-peers must be at least 1") }
        if (interface != nil || source != nil) && join.isEmpty {
            throw ValidationError("--interface and --source go with --join")
        }
    }

    func run() throws {
        let groups = try join.map { text throws -> IPAddress in
            guard let group = IPAddress(text), group.isMulticast else {
                throw RuntimeFailure("--join \(text): not a multicast group address (224.0.0.0/4 or ff00::/8)")
            }
            return group
        }
        let sourceAddress = try source.map { text throws -> IPAddress in
            guard let address = IPAddress(text) else { throw RuntimeFailure("--source \(text): not an IP address") }
            return address
        }
        let multicastInterface = try interface.map { text throws(UDPError) in try MulticastInterface(parsing: text) }
        if let first = groups.first {
            // One socket joins groups of one family; say so before the kernel answers "protocol not available".
            if let other = groups.first(where: { $0.family != first.family }) {
                throw RuntimeFailure("--join \(first) and --join \(other): one listener joins groups of one family")
            }
            if server.host != "0.0.0.0", let bound = IPAddress(server.unbracketedHost),
                bound.family != first.family
            {
                throw RuntimeFailure(
                    "--join \(first) is an \(first.family) group, but --host \(server.host) is \(bound.family): bind an \(first.family) address (or leave --host out)"
                )
            }
        }

        // With groups, the socket binds the wildcard of the groups' family (unless --host says otherwise) and
        // shares the port, as multicast receivers do.
        let bindFamily = groups.first?.family
        var local = try server.bindAddress(family: server.host == "0.0.0.0" ? nil : bindFamily)
        if let bindFamily, server.host == "0.0.0.0" { local = .any(bindFamily, port: UInt16(server.port)) }
        let socket = try UDPSocket(bindingTo: local, reuseAddress: !groups.isEmpty)
        for group in groups {
            try socket.joinMulticastGroup(group, interface: multicastInterface ?? .any, source: sourceAddress)
        }
        // The key is read before the first line, so a script that waits for `listening on` never sees it
        // followed by an error.
        let sealing = try key.load()
        var listener =
            sealing?.listener(maximumPeers: maxPeers, bufferSize: buffer)
            ?? Listener(maximumPeers: maxPeers, bufferSize: buffer)
        let stop = try StopSignal.catchingInterrupts()
        try announceListening(socket)

        let format: PayloadFormat = hex ? .hex : .text
        let driver = MachineDriver(stop: stop, receiveBufferSize: listener.bufferSize)
        try driver.run(&listener, on: socket) { event in
            switch event {
            case .datagram(let peer, let number, let payload, let length, let isTruncated):
                let shown = format.singleLine(payload)
                if isTruncated {
                    Console.line("from \(peer) #\(number) (\(length) bytes, truncated to \(payload.count)): \(shown)")
                } else {
                    Console.line("from \(peer) #\(number): \(shown)")
                }
            case .rejected(let peer, let reason):
                Console.line("from \(peer): rejected (\(reason))")
            }
        }
        listener.peers.summaryLines.forEach(Console.line)
        if let summary = sealing?.rejectionSummary(of: listener) { Console.line(summary) }
    }
}
