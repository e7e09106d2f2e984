#if Sealing
import UDPSeal
import UDPTools

extension KeyOptions {
    /// The key, read and checked (a file others can read is refused); nil without `--key-file`.
    func load() throws -> (any CommandSealing)? {
        guard let keyFile else { return nil }
        do {
            return LoadedKey(try SealKey(contentsOfFile: keyFile))
        } catch {
            throw RuntimeFailure(error.description)
        }
    }

    /// Bytes that sealing adds to each datagram: the envelope with `--key-file`, nil without.
    var sealedOverhead: Int? { keyFile == nil ? nil : SealedEnvelope.overhead }
}

/// The key of `--key-file`, loaded, and what each command's engine does with it.
struct LoadedKey: CommandSealing {
    let key: SealKey
    /// The opener of `udp echo`'s requests, one for all its workers (made here, once; the other commands open
    /// with an opener of their engine's own).
    let requests: SharedOpener

    init(_ key: SealKey) {
        self.key = key
        requests = SharedOpener(keys: [key], accepting: .request)
    }

    func seal(_ configuration: inout BenchWorker.Configuration) { configuration.sealKey = key }

    func seal(_ session: inout PingSession) { session.seal(with: key) }

    func seal(_ client: inout DatagramClient) { client.seal(with: key) }

    func listener(maximumPeers: Int, bufferSize: Int) -> Listener {
        Listener(maximumPeers: maximumPeers, bufferSize: bufferSize, opener: Opener(keys: [key], accepting: .request))
    }

    func rejectionSummary(of listener: Listener) -> String? {
        guard let counts = listener.rejections, counts.rejected > 0 else { return nil }
        return "rejected \(counts.rejected): \(counts.forged) failed authentication, \(counts.replayed) replayed, "
            + "\(counts.tooOld) too old, \(counts.unknownKey) unknown key, \(counts.malformed) malformed, "
            + "\(counts.wrongDirection) reflected"
    }

    func reflector(prefix: [UInt8], batchSize: Int, admission: PeerAdmission.Policy?) -> Reflector {
        Reflector(
            prefix: prefix,
            batchSize: batchSize,
            admission: admission,
            sealing: Reflector.Sealing(opener: requests, sealer: Sealer(key: key, direction: .reply))
        )
    }
}
#endif
