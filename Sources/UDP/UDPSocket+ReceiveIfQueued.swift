import CUDP

// Receives that never wait, whatever the socket's mode: the call site says so (`MSG_DONTWAIT`), and "nothing
// queued" is a value, not an error. An event loop tries these first and sleeps in poll(2) only when they come
// back empty, so under load it makes no call that finds nothing.
extension UDPSocket {
    /// Receives one datagram if one is queued, without waiting.
    ///
    /// - Returns: What ``receive(into:)-(UnsafeMutableRawBufferPointer)`` returns, or nil when nothing is
    ///   queued now.
    /// - Throws: `UDPError`, as that call does (`.connectionRefused` for an ICMP error left by an earlier
    ///   send), never `.wouldBlock` or `.timedOut`.
    ///
    /// The corresponding C function is `recvmsg(2)` with `MSG_DONTWAIT`.
    public func receiveIfQueued(into buffer: UnsafeMutableRawBufferPointer) throws(UDPError) -> ReceiveInfo? {
        do throws(UDPError) {
            return try receiveMessage(into: buffer, flags: receiveFlags | cudp_MSG_DONTWAIT)
        } catch {
            if error.code == .wouldBlock { return nil }
            throw error
        }
    }

    /// Receives what is queued, up to ``DatagramBatch/capacity`` datagrams (or GRO trains), without waiting.
    ///
    /// - Returns: How many slots of `batch` now hold a datagram or a train; 0 when nothing is queued. Fewer
    ///   than the capacity means the queue is empty now.
    ///
    /// The corresponding C function is `recvmmsg(2)` with `MSG_DONTWAIT`.
    public func receiveIfQueued(into batch: inout DatagramBatch) throws(UDPError) -> Int {
        do throws(UDPError) {
            return try receiveBatch(into: &batch, flags: receiveFlags | cudp_MSG_DONTWAIT)
        } catch {
            if error.code == .wouldBlock { return 0 }
            throw error
        }
    }
}
