import ArgumentParser
import UDPTools

/// The checks that several commands make of an option of the same kind, so that each is refused in the same
/// words everywhere.
enum OptionChecks {
    /// `--timeout`: a wait for a reply, above 0 and at most a minute (`ping`, `mtu`, `ntp`, `dns`).
    static func timeout(_ seconds: Double) throws {
        guard seconds > 0, seconds <= 60 else {
            throw ValidationError("--timeout must be a number of seconds above 0, at most 60 (got \(seconds))")
        }
    }

    /// `--interval`: seconds between requests, from `minimum` to an hour (`ping`, `ntp`, `dns`).
    static func interval(_ seconds: Double, minimum: Double) throws {
        guard seconds >= minimum, seconds <= 3600 else {
            throw ValidationError("--interval must be between \(minimum) and 3600 seconds (got \(seconds))")
        }
    }

    /// `--size`: a probe's payload, its header and more, up to the largest IPv4 datagram (`ping`, `bench`).
    static func probeSize(_ size: Int) throws {
        guard (Probe.headerSize...65_507).contains(size) else {
            throw ValidationError(
                "--size \(size) is out of range \(Probe.headerSize)-65507 (a probe's header takes \(Probe.headerSize) bytes)"
            )
        }
    }
}
