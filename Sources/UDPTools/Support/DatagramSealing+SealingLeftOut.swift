#if !Sealing
/// Why a sealed datagram was refused: `Opener.Rejection` of UDPSeal with the package trait `Sealing`. A build
/// without the trait has no sealed datagrams, and there this type is `Never`, so that no event can carry one.
public typealias SealRejection = Never
#endif
