#if Sealing
import UDPSeal

/// Why a sealed datagram was refused: `Opener.Rejection` of UDPSeal with the package trait `Sealing`. A build
/// without the trait has no sealed datagrams, and there this type is `Never`, so that no event can carry one.
public typealias SealRejection = Opener.Rejection

/// A sealer and an opener, either optional: what the engines of ping, bench, send and listen seal and open with.
struct SealedDatagrams: DatagramSealing {
    /// Seals what is sent; nil sends it in the clear.
    var sealer: Sealer?
    /// Opens what arrives; nil takes it as it comes.
    var opener: Opener?

    /// A client's: seals requests with `key`, opens replies only, so that its own requests reflected back
    /// to it are refused.
    init(client key: SealKey) {
        sealer = Sealer(key: key)
        opener = Opener(keys: [key], accepting: .reply)
    }

    /// - Parameters:
    ///   - sealer: Seals what is sent; nil sends it in the clear.
    ///   - opener: Opens what arrives; nil takes it as it comes.
    init(sealer: Sealer?, opener: Opener?) {
        self.sealer = sealer
        self.opener = opener
    }

    mutating func seal(_ payload: [UInt8]) -> [UInt8] {
        sealer?.seal(payload) ?? payload
    }

    mutating func open(_ datagram: [UInt8]) -> Result<[UInt8], SealRejection> {
        guard opener != nil else { return .success(datagram) }
        do throws(Opener.Rejection) {
            return .success(try opener!.open(datagram).payload)
        } catch {
            return .failure(error)
        }
    }
}

extension SealKey: DatagramSealingKey {
    var sealedOverhead: Int { SealedEnvelope.overhead }

    func clientSealing() -> any DatagramSealing { SealedDatagrams(client: self) }
}
#endif
