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
/// ``append(to:segmentSize:writing:)``), then ``UDPSocket/send(_:startingAt:)``. An echo server can send a
/// received batch straight back: each slot still holds its sender and its bytes.
///
/// **Segmentation offload.** With UDP GRO on (``UDPSocket/setGenericReceiveOffload(_:)``) one slot may hold a
/// *train*: several datagrams from one peer, of ``segmentSize(at:)`` bytes each (the last may be shorter),
/// coalesced by the kernel. A slot sent with a segment size goes out the same way, as one UDP GSO
/// (`UDP_SEGMENT`) send that the kernel cuts into datagrams. If the kernel refuses GSO (`EIO`, `EINVAL`),
/// the batch turns it off (``isSegmentationOffloadEnabled``) and sends such slots one datagram at a time.
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
    /// Each slot's segment size: 0 for a single datagram.
    private let segmentSizes: UnsafeMutablePointer<Int>
    /// Whether sends may use GSO; heap-held so a `borrowing` send can turn it off when the kernel refuses.
    private let offloadEnabled: UnsafeMutablePointer<Bool>

    /// The most datagrams one GSO send may carry (`UDP_MAX_SEGMENTS`, 64 on kernels before 6.11).
    public static let maximumSegments = 64

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
        segmentSizes = .allocate(capacity: capacity)
        segmentSizes.initialize(repeating: 0, count: capacity)
        offloadEnabled = .allocate(capacity: 1)
        offloadEnabled.initialize(to: true)
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
        segmentSizes.deallocate()
        offloadEnabled.deallocate()
    }

    /// Whether slots with a segment size are sent with UDP GSO. Turned off for good when the kernel or the
    /// device refuses it; such slots then go out one datagram at a time.
    public var isSegmentationOffloadEnabled: Bool { offloadEnabled.pointee }

    /// Turns GSO sends off (or back on, to try again).
    public func setSegmentationOffload(_ on: Bool) { offloadEnabled.pointee = on }

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

    /// Whether received datagram `index` was longer than ``bufferSize`` and lost its tail.
    public func isTruncated(at index: Int) -> Bool {
        precondition(index >= 0 && index < count, "slot \(index) is not in 0..<\(count)")
        return headers[index].msg_hdr.msg_flags & cudp_MSG_TRUNC != 0
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
        _ = parseControlMessages(messageHeader(index), into: &info)
        return info
    }

    /// The size of each datagram in slot `index` when it holds a train (received with GRO, or to be sent with
    /// GSO); nil for a single datagram.
    public func segmentSize(at index: Int) -> Int? {
        precondition(index >= 0 && index < count, "slot \(index) is not in 0..<\(count)")
        let size = segmentSizes[index]
        return size > 0 && size < stored[index] ? size : nil
    }

    /// How many datagrams slot `index` holds: 1, or the train's length.
    public func segmentCount(at index: Int) -> Int {
        guard let size = segmentSize(at: index) else { return 1 }
        return (stored[index] + size - 1) / size
    }

    /// The bytes of datagram `segment` of slot `index` (``segmentCount(at:)`` of them).
    public func segment(_ segment: Int, at index: Int) -> UnsafeRawBufferPointer {
        let payload = payload(at: index)
        guard let size = segmentSize(at: index) else { return payload }
        let start = segment * size
        precondition(segment >= 0 && start < payload.count, "segment \(segment) is not in slot \(index)")
        return UnsafeRawBufferPointer(rebasing: payload[start..<min(start + size, payload.count)])
    }

    /// Empties the batch, keeping its memory.
    public mutating func removeAll() { count = 0 }

    /// Copies `payload` into the next slot, to be sent to `peer`.
    ///
    /// - Returns: False, adding nothing, when the batch is full or `payload` is larger than ``bufferSize``.
    @discardableResult
    public mutating func append(_ payload: UnsafeRawBufferPointer, to peer: SocketAddress) -> Bool {
        append(to: peer, segmentSize: nil) { buffer in
            guard payload.count <= buffer.count else { return -1 }
            buffer.copyMemory(from: payload)
            return payload.count
        }
    }

    /// Writes the next datagram in place: `write` fills the slot's buffer and returns how many bytes it used
    /// (or a negative number to add nothing).
    ///
    /// - Parameter segmentSize: Send the bytes as a train of datagrams of this size (the last may be shorter),
    ///   with one GSO send; at most ``maximumSegments`` of them. Nil for one datagram.
    /// - Returns: False when the batch was full or `write` declined.
    @discardableResult
    public mutating func append(
        to peer: SocketAddress,
        segmentSize: Int? = nil,
        writing write: (UnsafeMutableRawBufferPointer) -> Int
    ) -> Bool {
        guard count < capacity else { return false }
        let slot = count
        let used = write(UnsafeMutableRawBufferPointer(start: buffers + slot * bufferSize, count: bufferSize))
        guard used >= 0 && used <= bufferSize else { return false }
        headers[slot].msg_hdr.msg_namelen = peer.write(to: names + slot)
        stored[slot] = used
        segmentSizes[slot] = segmentSize ?? 0
        count += 1
        return true
    }

    /// Writes the next datagram in place, addressed to the sender of datagram `index` of `received` (copied
    /// as the kernel reported it, without decoding): the reply path of a server.
    @discardableResult
    public mutating func appendReply(
        to index: Int,
        of received: borrowing DatagramBatch,
        segmentSize: Int? = nil,
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
        segmentSizes[slot] = segmentSize ?? 0
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

    /// Slot `index`'s `msghdr`, by address. Not `withUnsafeMutablePointer(to: &headers[index].msg_hdr)`: Swift
    /// 6.3.1 turns that inout access into invalid IR when Thread Sanitizer instruments it (Scripts/tsan.sh).
    private func messageHeader(_ index: Int) -> UnsafeMutablePointer<msghdr> {
        (headers + index).pointer(to: \.msg_hdr)!  // a stored property of a C struct always has an address
    }

    /// Records what `recvmmsg` filled in, with the GRO segment size of each train.
    mutating func finishReceive(_ received: Int) {
        for slot in 0..<received {
            stored[slot] = min(Int(headers[slot].msg_len), bufferSize)
            segmentSizes[slot] = 0
            if headers[slot].msg_hdr.msg_controllen > 0 {
                segmentSizes[slot] = receivedSegmentSize(messageHeader(slot))
            }
        }
        count = received
    }

    /// Whether slot `index` must go out as a train (several datagrams).
    func isTrain(_ index: Int) -> Bool { segmentSizes[index] > 0 && segmentSizes[index] < stored[index] }

    /// Where slot `index`'s peer address is, as the kernel takes it.
    func name(at index: Int) -> (UnsafeRawPointer, socklen_t) {
        (UnsafeRawPointer(names + index), headers[index].msg_hdr.msg_namelen)
    }

    /// Prepares slots `range` for `sendmmsg`: each vector covers the stored bytes; a train carries its
    /// `UDP_SEGMENT` size, and nothing else goes out as ancillary data (what a receive left there, such as a
    /// drop counter, is not valid on send).
    func prepareForSend(_ range: Range<Int>) {
        for slot in range {
            vectors[slot].iov_len = stored[slot]
            if isTrain(slot) {
                let control = controls + slot * controlBufferSize
                headers[slot].msg_hdr.msg_control = control
                headers[slot].msg_hdr.msg_controllen = numericCast(writeSegmentSize(segmentSizes[slot], to: control))
            } else {
                headers[slot].msg_hdr.msg_control = nil
                headers[slot].msg_hdr.msg_controllen = 0
            }
        }
    }
}
