import ArgumentParser
import UDP
import UDPDNS

/// The `@SERVER[:PORT]` of `udp dns`, with its failures in the command's words.
extension DNSServer {
    /// Parses the text after `@`, refusing a host name or anything else that is no address in one line.
    init(argument text: String) throws {
        do { try self.init(parsing: text) } catch .hostName {
            throw ValidationError(
                "'@\(text)': SERVER must be an IP address (a name would need a DNS query of its own), or @system"
            )
        } catch .notAnAddress(let detail) { throw ValidationError("'@\(text)': \(detail ?? "not an IP address")") }
    }

    /// The address to ask, with `@system`'s failure as a run-time one.
    func address(port: UInt16?) throws -> SocketAddress {
        do { return try resolve(port: port) } catch .unreadable(let path, let reason) {
            throw RuntimeFailure("@system: cannot read \(path): \(reason)")
        } catch .noNameserver(let path) { throw RuntimeFailure("@system: \(path) names no nameserver") }
    }
}
