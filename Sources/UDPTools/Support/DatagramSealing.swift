/// Sealed datagrams as the engines of `udp ping`, `udp bench`, `udp send` and `udp listen` use them: an engine
/// holds one in an optional, nil to send and take datagrams in the clear, so that its unsealed path costs one
/// nil check.
///
/// Only a build with the package trait `Sealing` has one (`SealedDatagrams`, in DatagramSealing+Sealing.swift),
/// made by each engine's sealed API (`PingSession.seal(with:)`, `DatagramClient.seal(with:)`, …), which exists
/// only with the trait; this file holds no cryptography and imports nothing of UDPSeal.
protocol DatagramSealing: Sendable {
    /// `payload`, sealed: the datagram to send.
    mutating func seal(_ payload: [UInt8]) -> [UInt8]

    /// The payload of a received `datagram`, or why it did not open (counted by the opener).
    mutating func open(_ datagram: [UInt8]) -> Result<[UInt8], SealRejection>
}

/// A key that seals datagrams, kept where an engine's configuration is shared between threads
/// (``BenchWorker/Configuration``): each worker makes a ``DatagramSealing`` of its own from it, with a sender id
/// of its own, so that one worker's sequence numbers never collide with another's at the server.
protocol DatagramSealingKey: Sendable {
    /// Bytes a sealed datagram adds to its payload.
    var sealedOverhead: Int { get }

    /// A client's sealing: it seals requests and opens only replies.
    func clientSealing() -> any DatagramSealing
}
