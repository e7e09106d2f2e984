#if Sealing
import UDPSeal

extension Listener {
    /// A listener that opens sealed datagrams (the package trait `Sealing`).
    ///
    /// - Parameters:
    ///   - maximumPeers: The most peers counted at once; the least recently seen are forgotten past that.
    ///   - bufferSize: Bytes kept of each datagram; a longer one is reported truncated, with its length.
    ///   - opener: Opens sealed datagrams; what does not open is reported as rejected. Nil takes them as
    ///     they come.
    public init(maximumPeers: Int = 4096, bufferSize: Int = 65_535, opener: Opener?) {
        self.init(maximumPeers: maximumPeers, bufferSize: bufferSize)
        sealing = opener.map { SealedDatagrams(sealer: nil, opener: $0) }
    }

    /// The opener's counts of what it refused, when there is a key.
    public var rejections: Opener.Counters? { (sealing as? SealedDatagrams)?.opener?.counters }
}
#endif
