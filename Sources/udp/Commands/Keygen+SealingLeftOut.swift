#if !Sealing
extension Keygen {
    /// A build without the package trait `Sealing` makes no keys: it says how to build one that does.
    func run() throws {
        throw KeyOptions.sealingLeftOut("udp keygen")
    }
}
#endif
