import UDP
import UDPPatterns

// What `udp ping` prints for each event, as ping(8) prints it.

extension PingSession.Event {
    /// Whether ping(8) would show it only when asked (`--verbose`, on stderr): a lost probe, an ignored reply.
    package var isDetail: Bool {
        switch self {
        case .lost, .ignored: true
        case .reply, .icmpError, .pathError: false
        }
    }

    /// The event's line: `64 bytes from 127.0.0.1:9999: seq=3 time=0.071 ms`, `(DUP!)`, `(late)`,
    /// `no reply to seq=4 within 2 seconds`, `From 198.18.1.1: time exceeded`.
    ///
    /// - Parameters:
    ///   - target: The address pinged, named by a path error.
    ///   - requested: The clock asked for; a reply measured by the other one says so.
    ///   - timeout: The loss timeout as the line shows it (`2`, `0.5`).
    package func text(target: SocketAddress, requested: PingSession.Timestamps, timeout: String) -> String {
        switch self {
        case .reply(let sender, let length, let sequence, let kind, let clock):
            let line = "\(length) bytes from \(sender): seq=\(sequence)"
            // Under --timestamps kernel, a reply measured by the user-space clock instead says so.
            let note = clock != requested ? " (\(clock.rawValue) clock)" : ""
            switch kind {
            case .first(let roundTrip): return line + " time=\(NumberFormat.roundTrip(roundTrip)) ms" + note
            case .duplicate(let roundTrip): return line + " time=\(NumberFormat.roundTrip(roundTrip)) ms (DUP!)" + note
            case .late(let roundTrip?): return line + " time=\(NumberFormat.roundTrip(roundTrip)) ms (late)"
            case .late(nil): return line + " (late)"
            }
        case .lost(let sequence):
            return "no reply to seq=\(sequence) within \(timeout) seconds"
        case .ignored(let sender, let length, let reason):
            let why =
                switch reason {
                case .noProbe: "no probe of this run"
                case .didNotOpen: "did not open"
                case .neverSent(let sequence): "seq=\(sequence) was never sent"
                }
            return "ignored \(length) bytes from \(sender): \(why)"
        case .icmpError(let event):
            return "\(event)"
        case .pathError(let error):
            return "from \(target): \(error.errno?.description ?? "\(error.code)")"
        }
    }
}
