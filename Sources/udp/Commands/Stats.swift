import ArgumentParser
import UDPTools

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the host's UDP counters, as netstat -su does.",
        discussion: """
            Reads /proc/net/snmp and /proc/net/snmp6: datagrams received and sent by every UDP socket of this \
            network namespace, and the reasons the kernel dropped some. RcvbufErrors counts datagrams lost \
            because a socket's receive queue was full (raise SO_RCVBUF, or read faster); NoPorts counts \
            datagrams for ports nobody listens on.

              udp stats
              udp stats --watch          # what changed, every second, until Ctrl-C
            """
    )

    @Flag(help: "Print the changes every second until Ctrl-C.")
    var watch = false

    @Flag(help: "Print one JSON object instead.")
    var json = false

    func run() throws {
        let counters = try HostUDPCounters.read()
        guard watch else {
            json ? Console.line(Self.json(counters)) : Self.show(counters)
            return
        }
        // Ctrl-C wakes the wait at once.
        try HostUDPCounters.watch(from: counters, until: try StopSignal.catchingInterrupts()) { delta in
            json ? Console.line(Self.json(delta)) : Self.showChanges(delta)
        }
    }

    static func show(_ counters: HostUDPCounters) {
        Console.line("Udp:")
        for (name, value) in counters.ipv4.named { Console.line("    \(name): \(value)") }
        if let six = counters.ipv6 {
            Console.line("Udp6:")
            for (name, value) in six.named { Console.line("    \(name): \(value)") }
        }
    }

    static func showChanges(_ delta: HostUDPCounters) {
        var parts = delta.ipv4.named.filter { $0.value != 0 }.map { "\($0.name) +\($0.value)" }
        parts += (delta.ipv6?.named ?? []).filter { $0.value != 0 }.map { "Udp6\($0.name) +\($0.value)" }
        Console.line(parts.isEmpty ? "no change" : parts.joined(separator: ", "))
    }

    static func json(_ counters: HostUDPCounters) -> String {
        func object(_ family: HostUDPCounters.Counters) -> String {
            "{" + family.named.map { "\"\($0.name)\": \($0.value)" }.joined(separator: ", ") + "}"
        }
        var text = "{\"udp\": \(object(counters.ipv4))"
        if let six = counters.ipv6 { text += ", \"udp6\": \(object(six))" }
        return text + "}"
    }
}
