import CUDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Batch I/O, and segmentation offload: GRO on receive, GSO on send.
extension UDPSocket {
    /// Receives up to ``DatagramBatch/capacity`` datagrams (or GRO trains) in one call; waits for the first only.
    ///
    /// - Returns: How many slots of `batch` now hold a datagram or a train (at least 1).
    /// - Throws: `UDPError` with code `.timedOut` or `.wouldBlock` when nothing arrived, as
    ///   ``receive(into:)-(UnsafeMutableRawBufferPointer)`` does.
    ///
    /// The corresponding C function is `recvmmsg(2)` with `MSG_WAITFORONE`.
    @discardableResult
    public func receive(into batch: inout DatagramBatch) throws(UDPError) -> Int {
        try receiveBatch(into: &batch, flags: receiveFlags | cudp_MSG_WAITFORONE)
    }

    /// `recvmmsg` into `batch` with `flags`.
    func receiveBatch(into batch: inout DatagramBatch, flags: CInt) throws(UDPError) -> Int {
        let headers = batch.headers
        let capacity = UInt32(batch.capacity)
        do throws(UDPError) {
            let received = try receivingPastPendingErrors { () throws(UDPError) in
                batch.prepareForReceive()
                return try retryingInterrupts(.receive) { cudp_recvmmsg(descriptor, headers, capacity, flags) }
            }
            batch.finishReceive(Int(received))
            return Int(received)
        } catch  where error.errno == .wouldBlock {
            throw againError(.receive, flags: flags)
        }
    }

    /// Sends slots `start..<batch.count` of `batch`, each to its peer (and from its source, if it has one), in
    /// one call; a slot with a segment size goes out as a train of datagrams (UDP GSO).
    ///
    /// - Returns: How many *slots* were sent, from `start` on. The kernel may stop early: call again from
    ///   `start + sent`. When the slot at `start` itself fails, this throws, and the caller decides whether to
    ///   skip it and go on. When the kernel refuses GSO for a train (`EIO` from a device without checksum
    ///   offload, `EINVAL` from a socket that cannot do it), the batch turns GSO off
    ///   (``DatagramBatch/isSegmentationOffloadEnabled``) and sends that train one datagram at a time, as
    ///   quinn-udp does; a train whose segments exceed the path MTU (`EMSGSIZE`) goes out one datagram at a
    ///   time too, with GSO left on for the others.
    ///
    /// The batch is `inout` because a send changes it: the kernel's view of each slot is set up in place, and a
    /// refused GSO turns ``DatagramBatch/isSegmentationOffloadEnabled`` off for the sends that follow.
    ///
    /// The corresponding C function is `sendmmsg(2)`.
    @discardableResult
    public func send(_ batch: inout DatagramBatch, startingAt start: Int = 0) throws(UDPError) -> Int {
        precondition(start >= 0 && start <= batch.count, "start \(start) is not in 0...\(batch.count)")
        guard start < batch.count else { return 0 }
        let firstPeer = batch.destination(at: start)
        if batch.isTrain(start) {
            try checkTrain(batch, start, peer: firstPeer)
            if !batch.isSegmentationOffloadEnabled {
                try sendSegments(of: batch, at: start)
                return 1
            }
        } else {
            // The kernel stops at the first oversized slot; the call that starts there reports it as send(_:to:).
            let size = batch.payload(at: start).count
            try checkSize(size, destination: firstPeer?.converted(for: family), address: firstPeer)
        }
        // Without GSO, one call stops before the next train, which then goes out datagram by datagram.
        var end = batch.count
        if !batch.isSegmentationOffloadEnabled {
            var slot = start + 1
            while slot < end && !batch.isTrain(slot) { slot += 1 }
            end = slot
        }
        let first = batch.prepareForSend(start..<end)
        let slots = UInt32(end - start)
        do throws(UDPError) {
            return Int(
                try sendRetryingPendingError(size: batch.payload(at: start).count) {
                    cudp_sendmmsg(descriptor, first, slots, sendFlags)
                }
            )
        } catch {
            if batch.isTrain(start) {
                switch error.errno {
                case .ioError?, .invalidArgument?:
                    // The device or the socket cannot do GSO (no checksum offload, SO_NO_CHECK): stop asking.
                    // Unless the datagrams fail one by one too: then the cause was elsewhere (EINVAL is also the
                    // kernel's word for a source address that is not this host's), and GSO stays on.
                    try sendSegments(of: batch, at: start)
                    batch.setSegmentationOffload(false)
                    return 1
                case .messageTooLong?:
                    // A segment larger than the path MTU: this train only goes out datagram by datagram (and
                    // IP fragments them, or reports EMSGSIZE for each under IP_PMTUDISC_DO).
                    try sendSegments(of: batch, at: start)
                    return 1
                default:
                    break
                }
            }
            var error = refine(error, size: batch.payload(at: start).count, source: batch.packetSource(at: start))
            error.address = firstPeer
            throw error
        }
    }

    /// Sends the datagrams of train `index` one by one, from the slot's source if it has one: the path taken
    /// when GSO is off or refused.
    private func sendSegments(of batch: borrowing DatagramBatch, at index: Int) throws(UDPError) {
        let (name, length) = batch.name(at: index)
        let source = batch.packetSource(at: index)
        for segment in 0..<batch.segmentCount(at: index) {
            let bytes = batch.segment(segment, at: index)
            do throws(UDPError) {
                _ = try sendMessage(bytes, to: name, length, from: source)
            } catch {
                var error = refine(error, size: bytes.count, source: source)
                error.address = batch.destination(at: index)
                throw error
            }
        }
    }

    /// Refuses a train whose datagrams are too large, or too many for one GSO send, before the kernel does.
    private func checkTrain(_ batch: borrowing DatagramBatch, _ index: Int, peer: SocketAddress?) throws(UDPError) {
        let size = batch.segmentSize(at: index) ?? batch.payload(at: index).count
        try checkSize(size, destination: peer?.converted(for: family), address: peer)
        let segments = batch.segmentCount(at: index)
        guard segments <= DatagramBatch.maximumSegments || !batch.isSegmentationOffloadEnabled else {
            throw UDPError(
                .invalidArgument,
                .send,
                address: peer,
                detail: "a train of \(segments) datagrams; one GSO send takes \(DatagramBatch.maximumSegments) at most"
            )
        }
    }

    /// Turns UDP GRO on or off. With it on, the kernel coalesces a burst of same-size datagrams from one peer
    /// into one received buffer, a train (see ``DatagramBatch``), which cuts the cost of receiving per datagram.
    /// Receive into buffers of 65535 bytes while it is on, or trains arrive truncated.
    ///
    /// - Throws: `UDPError` with code `.unsupported` where the kernel has no UDP GRO (Linux before 5.0).
    ///
    /// The corresponding C option is `UDP_GRO`.
    public func setGenericReceiveOffload(_ on: Bool) throws(UDPError) {
        guard cudp_UDP_GRO >= 0 else { throw UDPError(.unsupported, .setOption, detail: "UDP GRO needs Linux") }
        do throws(UDPError) {
            try setOption(cudp_IPPROTO_UDP, cudp_UDP_GRO, CInt(on ? 1 : 0))
        } catch {
            var error = error
            if error.errno == .protocolNotAvailable { error.code = .unsupported }
            throw error
        }
    }

    /// Whether UDP GRO is on (`UDP_GRO`).
    public var genericReceiveOffload: Bool {
        get throws(UDPError) { try boolOption(cudp_IPPROTO_UDP, cudp_UDP_GRO) }
    }
}
