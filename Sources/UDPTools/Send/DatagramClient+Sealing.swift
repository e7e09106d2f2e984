#if Sealing
import UDPSeal

extension DatagramClient {
    /// Seals each request (each attempt gets a sequence number of its own).
    public var sealer: Sealer? {
        get { (sealing as? SealedDatagrams)?.sealer }
        set { setSealing(sealer: newValue, opener: opener) }
    }

    /// Opens each reply; one that does not open is ignored.
    public var opener: Opener? {
        get { (sealing as? SealedDatagrams)?.opener }
        set { setSealing(sealer: sealer, opener: newValue) }
    }

    /// Seals requests and opens replies with `key` (`udp echo --key-file` on the other side).
    public mutating func seal(with key: SealKey) {
        sealing = SealedDatagrams(client: key)
    }

    /// Nil when both are: then the client sends and takes datagrams in the clear, as one never given a key.
    private mutating func setSealing(sealer: Sealer?, opener: Opener?) {
        sealing = sealer == nil && opener == nil ? nil : SealedDatagrams(sealer: sealer, opener: opener)
    }
}
#endif
