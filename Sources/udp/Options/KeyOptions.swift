import ArgumentParser
import UDPSeal

/// `--key-file`: seal what is sent and open what arrives with a pre-shared key (see `udp keygen`).
struct KeyOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Seal datagrams with the pre-shared key in FILE (from `udp keygen`); refuse what does not open.",
            valueName: "file"
        )
    )
    var keyFile: String?

    /// The key, read and checked (a file others can read is refused).
    func load() throws -> SealKey? {
        guard let keyFile else { return nil }
        do {
            return try SealKey(contentsOfFile: keyFile)
        } catch {
            throw RuntimeFailure(error.description)
        }
    }
}
