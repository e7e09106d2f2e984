#if !Sealing
extension KeyOptions {
    /// A build without the package trait `Sealing` refuses `--key-file` before anything runs.
    func validate() throws {
        if keyFile != nil { throw Self.sealingLeftOut("--key-file") }
    }

    /// Never a key: ``validate()`` refused `--key-file`.
    func load() throws -> (any CommandSealing)? { nil }

    /// Never sealed: ``validate()`` refused `--key-file`.
    var sealedOverhead: Int? { nil }
}
#endif
