import ArgumentParser
import UDP

/// Where a server listens: `--host` and `--port`, shared by `echo` and `listen`.
struct ServerOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Local address to bind: 0.0.0.0 for every IPv4 address, :: for a dual-stack IPv6 socket, 127.0.0.1 for this host only.",
            valueName: "address"
        )
    )
    var host: String = "0.0.0.0"

    @Option(help: "Port to bind; 0 lets the kernel pick one (it is printed on the first line).")
    var port: Int = 9999

    func validate() throws {
        guard (0...65_535).contains(port) else {
            throw ValidationError("port \(port) is out of range 0-65535")
        }
    }

    /// `--host` without the brackets an IPv6 address may come in (`[::1]` is `::1`).
    var unbracketedHost: String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    /// The address to bind: the host resolved (IPv4 first for a name), with the port.
    func bindAddress(family: AddressFamily? = nil) throws(UDPError) -> SocketAddress {
        try SocketAddress.resolve(unbracketedHost, port: UInt16(port), family: family)[0]
    }
}

/// The first line of every server: the port actually bound, so `--port 0` is usable from scripts.
func announceListening(_ socket: borrowing UDPSocket) throws(UDPError) {
    Console.line("listening on udp/\(try socket.localAddress.port)")
}
