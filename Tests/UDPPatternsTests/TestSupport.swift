import Testing
import UDP
import UDPPatterns

// Shared fixtures: a fake clock (instants built from one origin), seeded randomness, and payload helpers.

/// The origin of every fake clock: tests build instants as `t0 + .milliseconds(n)`.
let t0 = MonotonicInstant.zero

/// The instant `milliseconds` after ``t0``.
func at(_ milliseconds: Int) -> MonotonicInstant { t0 + .milliseconds(milliseconds) }

/// The bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A request frame as a client would send it.
func requestFrame(_ id: UInt64, _ payload: String, sequence: UInt32 = 0) -> [UInt8] {
    try! Frame(
        header: FrameHeader(sequence: SequenceNumber(sequence), requestID: RequestID(id)),
        payload: bytes(payload)
    )
    .encoded()
}

/// A reply frame as a server would send it.
func replyFrame(_ id: RequestID, _ payload: String, sequence: SequenceNumber = 0) -> [UInt8] {
    try! Frame(header: FrameHeader(sequence: sequence, requestID: id, isReply: true), payload: bytes(payload))
        .encoded()
}

/// The request id and payload text inside a transmitted request.
func decodeRequest(_ datagram: [UInt8]) throws -> (id: RequestID, text: String) {
    let frame = try Frame(decoding: datagram)
    return (try #require(frame.header.requestID), String(decoding: frame.payload, as: UTF8.self))
}
