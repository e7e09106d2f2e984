import CUDP
import UDP

/// SIGINT and SIGTERM, caught so a server can print its summary and exit 0.
///
/// The handlers are installed explicitly because a process a script starts in the background inherits SIGINT
/// ignored. The handler only records the signal; loops look at ``requested`` between receives, which use a
/// short receive timeout so they notice within a fraction of a second.
enum StopSignal {
    /// How often a blocked receive wakes to look at the flag.
    static let pollInterval: Duration = .milliseconds(200)

    static func install() { cudp_install_stop_handlers() }

    /// True once SIGINT or SIGTERM arrived.
    static var requested: Bool { cudp_stop_signal() != 0 }
}

/// The value of a server's receive, or nil when the receive only woke up to look at the stop flag (the
/// receive timeout), or reported an ICMP error left by an earlier reply (`ECONNREFUSED` on an unconnected
/// socket concerns no datagram now queued).
func ignoringIdleWakeups<T>(_ received: Result<T, UDPError>) throws(UDPError) -> T? {
    switch received {
    case .success(let value): return value
    case .failure(let error) where error.code == .timedOut || error.code == .connectionRefused: return nil
    case .failure(let error): throw error
    }
}
