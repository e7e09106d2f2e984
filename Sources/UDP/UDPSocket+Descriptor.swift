extension UDPSocket {
    /// Lends the socket's file descriptor to `body`, for a call this type does not wrap (`poll(2)`, an option
    /// it lacks, `ioctl(2)`), as swift-system's `withBorrowedName` and NIO's `withUnsafeHandle` lend theirs.
    ///
    /// The socket still owns the descriptor: do not close it, and do not keep it past `body` (its number can
    /// be reused by another file once the socket is gone). To own it, take it with ``takeDescriptor()``. A
    /// change of blocking mode made here (`O_NONBLOCK`) is not seen by ``isNonBlocking``; use
    /// ``setNonBlocking(_:)`` instead.
    ///
    /// - Parameter body: Called at once with the descriptor.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func withUnsafeDescriptor<R, E: Error>(_ body: (CInt) throws(E) -> R) throws(E) -> R {
        try body(descriptor)
    }
}
