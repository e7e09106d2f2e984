import UDP
import UDPDiscovery
import UDPPatterns

/// A session of `discover` or `announce` on one address family: one member of the group a driver runs, which
/// `--stats` names by its family and reports by its counters.
protocol FamilySession {
    associatedtype Counters: CustomStringConvertible
    /// The family it works on.
    var family: AddressFamily { get }
    /// What it received and dropped, by reason, in `--stats`' words.
    var counters: Counters { get }
}

extension MDNSBrowseSession: FamilySession {}
extension SSDPSearchSession: FamilySession {}
extension MDNSAnnounceSession: FamilySession {}
extension SSDPAnnounceSession: FamilySession {}

/// `--stats`: what each session received and dropped, on standard error, one line each, mDNS's before SSDP's:
/// `udp: mdns ipv4: 12 responses, …`.
func printCounters<MDNS: FamilySession, SSDP: FamilySession>(
    of sessions: MachinePair<MachineGroup<MDNS>, MachineGroup<SSDP>>
) {
    for session in sessions.first.members {
        Console.error("udp: mdns \(session.family.lowercasedName): \(session.counters)")
    }
    for session in sessions.second.members {
        Console.error("udp: ssdp \(session.family.lowercasedName): \(session.counters)")
    }
}
