#if Sealing
import UDPSeal

extension PingSession {
    /// Seals every probe with `key` and opens every reply (`udp echo --key-file` on the other side). Only with
    /// the package trait `Sealing`.
    public mutating func seal(with key: SealKey) {
        sealing = SealedDatagrams(client: key)
    }
}
#endif
