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
            json ? Console.line(counters.json) : counters.lines.forEach(Console.line)
            return
        }
        // Ctrl-C wakes the wait at once.
        try HostUDPCounters.watch(from: counters, until: try StopSignal.catchingInterrupts()) { delta in
            Console.line(json ? delta.json : delta.changesLine)
        }
    }
}
