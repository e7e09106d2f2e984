import UDP

extension UDPSocket {
    /// `UDPSocket.receiveIfQueued(into:)-(UnsafeMutableRawBufferPointer)` into an array an engine keeps
    /// and reuses: the datagram's bytes are `bytes[..<info.count]`.
    func receiveIfQueued(into bytes: inout [UInt8]) throws(UDPError) -> ReceiveInfo? {
        try bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(UDPError) in try receiveIfQueued(into: buffer) }
        }.get()
    }
}
