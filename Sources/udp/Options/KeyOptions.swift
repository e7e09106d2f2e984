import ArgumentParser
import UDPTools

/// `--key-file`: seal what is sent and open what arrives with a pre-shared key (see `udp keygen`).
///
/// The option is there in every build, so that `--help` and the man pages read the same. A build with the package
/// trait `Sealing` loads the key (KeyOptions+Sealing.swift); one without refuses the option in `validate()`, in one
/// line that says how to build with it (KeyOptions+SealingLeftOut.swift).
struct KeyOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Seal datagrams with the pre-shared key in FILE (from `udp keygen`); refuse what does not open.",
            valueName: "file"
        )
    )
    var keyFile: String?

    /// The refusal of `feature` by a build without sealed datagrams, naming the command that builds them in.
    static func sealingLeftOut(_ feature: String) -> RuntimeFailure {
        RuntimeFailure(
            "\(feature) needs sealed datagrams, which this build of udp leaves out: "
                + "build it with `swift build -c release --traits Sealing`"
        )
    }
}

/// What `--key-file` does to each command's engine once its key is loaded: seal what the engine sends, open what
/// it receives. Only a build with the package trait `Sealing` makes one (`KeyOptions.load()`, in
/// KeyOptions+Sealing.swift); a build without refuses `--key-file` first, and its `load()` is always nil.
protocol CommandSealing: Sendable {
    /// Seals `udp bench`'s probes and opens their replies, each worker with a sender id of its own.
    func seal(_ configuration: inout BenchWorker.Configuration)

    /// Seals `udp ping`'s probes and opens their replies.
    func seal(_ session: inout PingSession)

    /// Seals `udp send`'s requests and opens their replies.
    func seal(_ client: inout DatagramClient)

    /// `udp listen`'s listener, which opens every datagram as a request.
    func listener(maximumPeers: Int, bufferSize: Int) -> Listener

    /// The line `udp listen` ends with when `listener` refused datagrams, by kind; nil when it refused none.
    func rejectionSummary(of listener: Listener) -> String?

    /// A worker of `udp echo`: it opens requests with one opener that every worker shares, so that a sender has
    /// one replay window whichever socket its datagrams reach, and seals replies with a sealer of its own.
    func reflector(prefix: [UInt8], batchSize: Int, admission: PeerAdmission.Policy?) -> Reflector
}
