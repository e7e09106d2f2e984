/// The counters `udp relay` prints at exit, read back: `client->server: received 5, forwarded 4, …`.
struct RelaySummary {
    var up: [String: Int] = [:]
    var down: [String: Int] = [:]

    init(_ stderr: String) {
        for line in stderr.split(separator: "\n") {
            if line.hasPrefix("client->server: ") {
                up = Self.counters(line.dropFirst("client->server: ".count))
            } else if line.hasPrefix("server->client: ") {
                down = Self.counters(line.dropFirst("server->client: ".count))
            }
        }
    }

    /// `received 5, over rate 2` as ["received": 5, "over rate": 2].
    private static func counters(_ text: Substring) -> [String: Int] {
        var counters: [String: Int] = [:]
        for field in text.split(separator: ", ") {
            guard let space = field.lastIndex(of: " "), let value = Int(field[field.index(after: space)...]) else {
                continue
            }
            counters[String(field[..<space])] = value
        }
        return counters
    }

    /// Whether one direction's counters add up, as `udp relay --help` says they do: every datagram received
    /// is dropped or leaves as one copy (two when duplicated), and every copy is accounted for once.
    static func addsUp(_ counters: [String: Int]) -> Bool {
        let copies =
            counters["received", default: -1] - counters["dropped", default: 0]
            + counters["duplicated", default: 0]
        let fates = ["forwarded", "over rate", "queue full", "send errors", "no upstream socket", "in flight"]
        return fates.allSatisfy { counters[$0] != nil } && copies == fates.reduce(0) { $0 + counters[$1]! }
    }
}
