/// What a count of the datagrams an SSDP session could not parse has: ``SSDPSearchSession/Counters`` and
/// ``SSDPAnnounceSession/Counters``.
protocol SSDPParseFailureCounts {
    /// Packets refused for a line or a header count over the bounds.
    var oversized: Int { get set }
    /// Packets that did not parse as SSDP, for a reason other than their size.
    var malformed: Int { get set }
}

extension SSDPSearchSession.Counters: SSDPParseFailureCounts {}
extension SSDPAnnounceSession.Counters: SSDPParseFailureCounts {}

/// How both SSDP sessions take a datagram: parsed, or counted by why it was not.
extension SSDPMessage {
    /// `bytes` parsed, or nil after counting why not in `counts`: as ``SSDPParseFailureCounts/oversized`` when a
    /// line or the header count passed its bound (``SSDPError/isOversized``), else as
    /// ``SSDPParseFailureCounts/malformed``.
    static func parsing(
        _ bytes: some Collection<UInt8>,
        counting counts: inout some SSDPParseFailureCounts
    ) -> SSDPMessage? {
        do throws(SSDPError) {
            return try SSDPMessage(parsing: bytes)
        } catch {
            if error.isOversized {
                counts.oversized += 1
            } else {
                counts.malformed += 1
            }
            return nil
        }
    }
}
