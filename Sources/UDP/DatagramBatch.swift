import CUDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffers for moving many datagrams per system call (`recvmmsg` / `sendmmsg`), allocated once and reused,
/// so a server's steady state allocates nothing per datagram.
///
/// Modelled on SwiftNIO's `DatagramVectorReadManager`: the message headers, I/O vectors, peer addresses,
/// control buffers and payload buffers are allocated together at creation and freed in `deinit`.
///
/// Receive fills slots `0..<count` (``UDPSocket/receive(into:)-(DatagramBatch)``); read each with
/// ``payload(at:)`` and ``info(at:)``. To send, ``removeAll()`` and ``append(_:to:)`` (or fill in place with
/// ``append(to:writing:)``), then ``UDPSocket/send(_:startingAt:)``. An echo server can send a received batch
/// straight back: each slot still holds its sender and its bytes.
public struct DatagramBatch: ~Copyable {
    /// The most datagrams one call moves.
    public let capacity: Int
    /// The size of each datagram's buffer; a longer received datagram is truncated and reported so.
    public let bufferSize: Int
    /// How many slots hold a datagram (received, or appended for sending).
    public private(set) var count: Int = 0

    let headers: UnsafeMutablePointer<cudp_mmsghdr>
    private let vectors: UnsafeMutablePointer<iovec>
    private let names: UnsafeMutablePointer<sockaddr_storage>
    private let controls: UnsafeMutableRawPointer
    private let buffers: UnsafeMutableRawPointer
    /// Bytes stored in each slot's buffer: the payload to send, or what a receive kept.
    private let stored: UnsafeMutablePointer<Int>

    /// Allocates room for `capacity` datagrams of up to `bufferSize` bytes each.
    ///
    /// - Parameters:
    ///   - capacity: Datagrams per call; 64 amortises the system call well (NIO and quinn use 32–64).
    ///   - bufferSize: Bytes per datagram; the default holds any datagram, so nothing is ever truncated.
    public init(capacity: Int = 64, bufferSize: Int = 65_535) {
        precondition(capacity > 0 && bufferSize > 0, "a batch needs at least one slot of at least one byte")
        self.capacity = capacity
        self.bufferSize = bufferSize
        headers = .allocate(capacity: capacity)
        headers.initialize(repeating: cudp_mmsghdr(), count: capacity)
        vectors = .allocate(capacity: capacity)
        vectors.initialize(repeating: iovec(), count: capacity)
        names = .allocate(capacity: capacity)
        names.initialize(repeating: sockaddr_storage(), count: capacity)
        controls = .allocate(byteCount: capacity * controlBufferSize, alignment: 16)
        controls.initializeMemory(as: UInt8.self, repeating: 0, count: capacity * controlBufferSize)
        buffers = .allocate(byteCount: capacity * bufferSize, alignment: 16)
        stored = .allocate(capacity: capacity)
        stored.initialize(repeating: 0, count: capacity)
        for slot in 0..<capacity {
            vectors[slot].iov_base = buffers + slot * bufferSize
            headers[slot].msg_hdr.msg_name = UnsafeMutableRawPointer(names + slot)
            headers[slot].msg_hdr.msg_iov = vectors + slot
            headers[slot].msg_hdr.msg_iovlen = 1
        }
    }

    deinit {
        headers.deallocate()
        vectors.deallocate()
        names.deallocate()
        controls.deallocate()
        buffers.deallocate()
        stored.deallocate()
    }

    /// The bytes of datagram `index` (what was received, or what will be sent).
    public func payload(at index: Int) -> UnsafeRawBufferPointer {
        precondition(index >= 0 && index < count, "slot \(index) is not in 0..<\(count)")
        return UnsafeRawBufferPointer(start: buffers + index * bufferSize, count: stored[index])
    }

    /// The peer of datagram `index`: who sent it, or where it will go.
    public func peer(at index: Int) -> SocketAddress {
        precondition(index >= 0 && index < count, "slot \(index) is not in 0..<\(count)")
        return SocketAddress(storage: names + index, length: headers[index].msg_hdr.msg_namelen) ?? .any(.inet)
    }

    /// Everything the kernel reported about received datagram `index`: sender, real length, truncation and
    /// packet info.
    public func info(at index: Int) -> ReceiveInfo {
        let header = headers + index
        var info = ReceiveInfo(
            count: stored[index],
            length: Int(header.pointee.msg_len),
            sender: peer(at: index),
            isTruncated: header.pointee.msg_hdr.msg_flags & cudp_MSG_TRUNC != 0
        )
        withUnsafeMutablePointer(to: &header.pointee.msg_hdr) { _ = parseControlMessages($0, into: &info) }
        return info
    }

    /// Empties the batch, keeping its memory.
    public mutating func removeAll() { count = 0 }

    /// Copies `payload` into the next slot, to be sent to `peer`.
    ///
    /// - Returns: False, adding nothing, when the batch is full or `payload` is larger than ``bufferSize``.
    @discardableResult
    public mutating func append(_ payload: UnsafeRawBufferPointer, to peer: SocketAddress) -> Bool {
        append(to: peer) { buffer in
            guard payload.count <= buffer.count else { return -1 }
            buffer.copyMemory(from: payload)
            return payload.count
        }
    }

    /// Writes the next datagram in place: `write` fills the slot's buffer and returns how many bytes it used
    /// (or a negative number to add nothing).
    ///
    /// - Returns: False when the batch was full or `write` declined.
    @discardableResult
    public mutating func append(to peer: SocketAddress, writing write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        guard count < capacity else { return false }
        let slot = count
        let used = write(UnsafeMutableRawBufferPointer(start: buffers + slot * bufferSize, count: bufferSize))
        guard used >= 0 && used <= bufferSize else { return false }
        headers[slot].msg_hdr.msg_namelen = peer.write(to: names + slot)
        stored[slot] = used
        count += 1
        return true
    }

    /// Writes the next datagram in place, addressed to the sender of datagram `index` of `received` (copied
    /// as the kernel reported it, without decoding): the reply path of a server.
    @discardableResult
    public mutating func appendReply(
        to index: Int,
        of received: borrowing DatagramBatch,
        writing write: (UnsafeMutableRawBufferPointer) -> Int
    ) -> Bool {
        precondition(index >= 0 && index < received.count, "slot \(index) is not in 0..<\(received.count)")
        guard count < capacity else { return false }
        let slot = count
        let used = write(UnsafeMutableRawBufferPointer(start: buffers + slot * bufferSize, count: bufferSize))
        guard used >= 0 && used <= bufferSize else { return false }
        let length = received.headers[index].msg_hdr.msg_namelen
        UnsafeMutableRawPointer(names + slot).copyMemory(from: received.names + index, byteCount: Int(length))
        headers[slot].msg_hdr.msg_namelen = length
        stored[slot] = used
        count += 1
        return true
    }

    /// Prepares slots for `recvmmsg`: full buffers, room for a peer address and ancillary data.
    mutating func prepareForReceive() {
        for slot in 0..<capacity {
            vectors[slot].iov_len = bufferSize
            headers[slot].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            headers[slot].msg_hdr.msg_control = controls + slot * controlBufferSize
            headers[slot].msg_hdr.msg_controllen = numericCast(controlBufferSize)
            headers[slot].msg_hdr.msg_flags = 0
        }
        count = 0
    }

    /// Records what `recvmmsg` filled in.
    mutating func finishReceive(_ received: Int) {
        for slot in 0..<received {
            stored[slot] = min(Int(headers[slot].msg_len), bufferSize)
        }
        count = received
    }

    /// Prepares slots `start..<count` for `sendmmsg`: each vector covers the stored bytes, and no ancillary data
    /// goes out (what a receive left there, such as a drop counter, is not valid on send).
    func prepareForSend(from start: Int) {
        for slot in start..<count {
            vectors[slot].iov_len = stored[slot]
            headers[slot].msg_hdr.msg_control = nil
            headers[slot].msg_hdr.msg_controllen = 0
        }
    }
}

extension UDPSocket {
    /// Receives up to ``DatagramBatch/capacity`` datagrams in one call; waits for the first only.
    ///
    /// - Returns: How many slots of `batch` now hold a datagram (at least 1).
    /// - Throws: `UDPError` with code `.timedOut` or `.wouldBlock` when nothing arrived, as
    ///   ``receive(into:)-(UnsafeMutableRawBufferPointer)`` does.
    ///
    /// The corresponding C function is `recvmmsg(2)` with `MSG_WAITFORONE`.
    @discardableResult
    public func receive(into batch: inout DatagramBatch) throws(UDPError) -> Int {
        batch.prepareForReceive()
        let headers = batch.headers
        let capacity = UInt32(batch.capacity)
        do throws(UDPError) {
            let received = try retryingInterrupts(.receive) {
                cudp_recvmmsg(descriptor, headers, capacity, receiveFlags | cudp_MSG_WAITFORONE)
            }
            batch.finishReceive(Int(received))
            return Int(received)
        } catch  where error.errno == .wouldBlock {
            throw againError(.receive)
        }
    }

    /// Sends datagrams `start..<batch.count` of `batch`, each to its peer, in one call.
    ///
    /// - Returns: How many were sent, from `start` on. The kernel may stop early: call again from
    ///   `start + sent`. When the datagram at `start` itself fails, this throws, and the caller decides whether
    ///   to skip it and go on.
    ///
    /// The corresponding C function is `sendmmsg(2)`.
    @discardableResult
    public func send(_ batch: borrowing DatagramBatch, startingAt start: Int = 0) throws(UDPError) -> Int {
        precondition(start >= 0 && start <= batch.count, "start \(start) is not in 0...\(batch.count)")
        guard start < batch.count else { return 0 }
        // The kernel stops at the first oversized slot; the call that starts there reports it as send(_:to:) would.
        let firstPeer = batch.peer(at: start)
        try checkSize(batch.payload(at: start).count, destination: firstPeer.converted(for: family), address: firstPeer)
        batch.prepareForSend(from: start)
        let first = batch.headers + start
        let remaining = UInt32(batch.count - start)
        do throws(UDPError) {
            return Int(try retryingInterrupts(.send) { cudp_sendmmsg(descriptor, first, remaining, sendFlags) })
        } catch {
            var error = refine(error, size: batch.payload(at: start).count)
            error.address = batch.peer(at: start)
            throw error
        }
    }
}
