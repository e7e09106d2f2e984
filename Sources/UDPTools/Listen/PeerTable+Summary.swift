// What `udp listen` prints when it stops: the datagrams and bytes of each peer, and of those it forgot.

extension PeerTable {
    /// `--- 5 datagrams from 2 peers ---`, a line per peer in the order they were first seen, and one for the
    /// peers forgotten past the table's size, when there were any.
    public var summaryLines: [String] {
        let peerCount = entries.count + evictedPeers
        var lines = [
            "--- \(totalDatagrams) datagram\(totalDatagrams == 1 ? "" : "s") "
                + "from \(peerCount) peer\(peerCount == 1 ? "" : "s") ---"
        ]
        for (peer, entry) in peersInOrder {
            lines.append("\(peer): \(entry.datagrams) datagram\(entry.datagrams == 1 ? "" : "s"), \(entry.bytes) bytes")
        }
        if evictedPeers > 0 {
            lines.append(
                "other peers (\(evictedPeers), forgotten past --max-peers): \(evicted.datagrams) datagrams, "
                    + "\(evicted.bytes) bytes"
            )
        }
        return lines
    }
}
