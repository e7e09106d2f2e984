import UDP

/// Bytes each chunk spends on its place in the message: its index and the count, two big-endian `UInt16`s.
let chunkHeaderSize = 4

/// Splits `message` into datagrams of at most `limit` bytes, each starting with its index and the count, so
/// the receiver can put them back in order and see when one is missing.
func chunks(of message: [UInt8], limit: Int) -> [[UInt8]] {
    let room = limit - chunkHeaderSize
    let count = (message.count + room - 1) / room
    return (0..<count).map { index in
        let piece = message[(index * room)..<min(message.count, (index + 1) * room)]
        return [UInt8(index >> 8), UInt8(index & 0xFF), UInt8(count >> 8), UInt8(count & 0xFF)] + piece
    }
}

/// Sends `message` as chunks of at most `limit` bytes from `sender` (connected to `receiver`), and reassembles
/// them on `receiver`.
///
/// Each chunk is read before the next is sent: this program holds both ends, and a burst of 45 datagrams could
/// overflow the receive queue. A real sender paces its chunks, and its receiver asks again for missing ones.
///
/// - Returns: How many datagrams carried it, and the message as reassembled (nil when a chunk did not arrive in
///   its place within a second).
func sendInChunks(
    _ message: [UInt8],
    limit: Int,
    from sender: borrowing UDPSocket,
    to receiver: borrowing UDPSocket
) throws -> (datagrams: Int, reassembled: [UInt8]?) {
    let pieces = chunks(of: message, limit: limit)
    var reassembled: [UInt8] = []
    for (index, piece) in pieces.enumerated() {
        try sender.send(piece)
        guard let datagram = try receiver.receive(maximumSize: 65_535, timeout: .seconds(1)),
            datagram.payload.count > chunkHeaderSize,
            Int(datagram.payload[0]) << 8 | Int(datagram.payload[1]) == index
        else { return (pieces.count, nil) }
        reassembled += datagram.payload[chunkHeaderSize...]
    }
    return (pieces.count, reassembled)
}
