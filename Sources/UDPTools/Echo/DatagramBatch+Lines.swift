import UDP
import UDPPatterns

extension DatagramBatch {
    /// `from PEER: PAYLOAD` for each datagram of the first `slots` received, a coalesced train split into its
    /// datagrams, a truncated one with its real length: what `udp echo --verbose` prints of a batch.
    ///
    /// - Parameters:
    ///   - slots: How many slots the receive filled.
    ///   - format: How payloads are shown.
    package func receivedLines(_ slots: Int, format: PayloadFormat) -> [String] {
        var lines: [String] = []
        for slot in 0..<slots {
            let info = info(at: slot)
            for segment in 0..<segmentCount(at: slot) {
                var line = "from \(info.sender.unmapped): \(format.singleLine(self.segment(segment, at: slot)))"
                if info.isTruncated { line += " (truncated: \(info.length) bytes)" }
                lines.append(line)
            }
        }
        return lines
    }
}
