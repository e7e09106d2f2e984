#if Sealing
import UDPSeal

extension BenchWorker.Configuration {
    /// Seal every probe and open every reply with this key (`--key-file`); nil sends probes in the clear.
    /// Only with the package trait `Sealing`.
    public var sealKey: SealKey? {
        get { sealing as? SealKey }
        set { sealing = newValue }
    }
}
#endif
