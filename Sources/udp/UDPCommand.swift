import ArgumentParser
import UDP

@main
struct UDPCommand: ParsableCommand {
    /// The release, for `--version` and the `SERVER` that `udp announce --ssdp` sends.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "udp",
        abstract: "Send, receive, reflect and measure UDP datagrams.",
        discussion: """
            The tutorial's programs as tools: a reflector, a client with timeouts and retries, and a receive loop \
            for many peers. Addresses are HOST:PORT or [IPV6]:PORT; host names resolve IPv4 first unless -4 or -6 \
            says otherwise.

            Exit status: 0 on success, 1 when something failed at run time (no reply, address in use, \
            connection refused), 64 for bad usage.
            """,
        version: UDPCommand.version,
        subcommands: [
            Echo.self, Send.self, Listen.self, Ping.self, MTU.self, DNS.self, NTP.self, Discover.self, Announce.self,
            Bench.self,
            Relay.self,
            Stats.self,
            Keygen.self,
        ]
    )

    /// Runs the command, printing any failure as one line on stderr (`udp: bind 0.0.0.0:9000: address already
    /// in use`) with no usage dump and no stack trace.
    static func main() {
        let command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            fail(error)
        }
        do {
            var command = command
            try command.run()
        } catch {
            fail(error)
        }
    }

    private static func fail(_ error: Error) -> Never {
        let code = exitCode(for: error)
        if code == .success || error is CleanExit {
            exit(withError: error)  // --help, --version
        }
        if let exit = error as? ExitCode { Self.exit(withError: exit) }
        let message: String
        if let error = error as? UDPError {
            message = error.description
        } else {
            message = self.message(for: error)
        }
        let firstLine =
            message.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? message
        Console.error("udp: " + (firstLine.hasPrefix("Error: ") ? String(firstLine.dropFirst(7)) : firstLine))
        Self.exit(withError: error is UDPError || error is RuntimeFailure ? ExitCode.failure : ExitCode(code.rawValue))
    }
}

/// A failure already worded for a person, ending the command with exit status 1.
struct RuntimeFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
