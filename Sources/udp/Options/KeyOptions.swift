import ArgumentParser

#if Sealing
import UDPSeal
#endif

/// `--key-file`: seal what is sent and open what arrives with a pre-shared key (see `udp keygen`).
///
/// The option is there in every build, so that `--help` and the man pages read the same; a build without the
/// package trait `Sealing` refuses it in one line that says how to build with it.
struct KeyOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Seal datagrams with the pre-shared key in FILE (from `udp keygen`); refuse what does not open.",
            valueName: "file"
        )
    )
    var keyFile: String?

    #if Sealing
    /// The key, read and checked (a file others can read is refused).
    func load() throws -> SealKey? {
        guard let keyFile else { return nil }
        do {
            return try SealKey(contentsOfFile: keyFile)
        } catch {
            throw RuntimeFailure(error.description)
        }
    }
    #else
    func validate() throws {
        if keyFile != nil { throw Self.sealingLeftOut("--key-file") }
    }
    #endif

    /// The refusal of `feature` by a build without sealed datagrams, naming the command that builds them in.
    static func sealingLeftOut(_ feature: String) -> RuntimeFailure {
        RuntimeFailure(
            "\(feature) needs sealed datagrams, which this build of udp leaves out: "
                + "build it with `swift build -c release --traits Sealing`"
        )
    }
}
