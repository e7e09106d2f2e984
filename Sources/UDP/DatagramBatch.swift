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
/// control buffers and payload buffers are carved out of one allocation at creation, freed in `deinit`.
///
/// Receive fills slots `0..<count` (``UDPSocket/receive(into:)-(DatagramBatch)``); read them with
/// `for datagram in batch.received` (``received``), or each with ``payload(at:)`` and ``info(at:)``. To send,
/// ``removeAll()`` and ``append(_:to:)`` (or fill in place with ``append(to:from:interfaceIndex:segmentSize:writing:)``), then
/// ``UDPSocket/send(_:startingAt:)``. An echo server can send a received batch straight back: each slot still
/// holds its sender and its bytes.
///
/// **Segmentation offload.** With UDP GRO on (``UDPSocket/setGenericReceiveOffload(_:)``) one slot may hold a
/// *train*: several datagrams from one peer, of ``segmentSize(at:)`` bytes each (the last may be shorter),
/// coalesced by the kernel. A slot sent with a segment size goes out the same way, as one UDP GSO
/// (`UDP_SEGMENT`) send that the kernel cuts into datagrams. If the kernel refuses GSO (`EIO`, `EINVAL`),
/// the batch turns it off (``isSegmentationOffloadEnabled``) and sends such slots one datagram at a time.
///
/// **Source addresses.** A slot may name the local address it goes out from (``append(_:to:from:interfaceIndex:)``;
/// `IP_PKTINFO` / `IPV6_PKTINFO` on send). A datagram received with packet info on
/// (``UDPSocket/setReceivePacketInfo(_:)``) keeps the address it was sent to (``ReceiveInfo/replySource``), so
/// the received batch sent straight back, and a reply made with ``appendReply(to:of:segmentSize:writing:)``,
/// go out from the address the peer asked: what a server bound to `0.0.0.0` or `::` on a host with several
/// addresses needs. A slot without a source sends no packet info, and the kernel picks the address by route.
public struct DatagramBatch: ~Copyable {
    /// The most datagrams one call moves.
    public let capacity: Int
    /// The size of each datagram's buffer; a longer received datagram is truncated and reported so.
    public let bufferSize: Int
    /// How many slots hold a datagram (received, or appended for sending).
    public private(set) var count: Int = 0
    /// Whether slots with a segment size are sent with UDP GSO. Turned off for good when the kernel or the
    /// device refuses it; such slots then go out one datagram at a time.
    public private(set) var isSegmentationOffloadEnabled = true

    /// The one allocation every region below is carved from.
    private let memory: UnsafeMutableRawPointer
    /// Where each region starts.
    let regions: Regions

    /// The most datagrams one GSO send may carry (`UDP_MAX_SEGMENTS`, 64 on kernels before 6.11).
    public static let maximumSegments = 64

    /// Allocates room for `capacity` datagrams of up to `bufferSize` bytes each, in one allocation.
    ///
    /// - Parameters:
    ///   - capacity: Datagrams per call; 64 amortises the system call well (NIO and quinn use 32–64).
    ///   - bufferSize: Bytes per datagram; the default holds any datagram, so nothing is ever truncated.
    public init(capacity: Int = 64, bufferSize: Int = 65_535) {
        precondition(capacity > 0 && bufferSize > 0, "a batch needs at least one slot of at least one byte")
        self.capacity = capacity
        self.bufferSize = bufferSize
        let layout = Layout(capacity: capacity, bufferSize: bufferSize)
        memory = .allocate(byteCount: layout.byteCount, alignment: Layout.alignment)
        regions = Regions(memory, layout, capacity: capacity, bufferSize: bufferSize)
    }

    deinit {
        // Every region holds trivial values (C structs, integers, addresses): nothing to deinitialize first.
        memory.deallocate()
    }

    /// Turns GSO sends off, or back on to try again.
    public mutating func setSegmentationOffload(_ on: Bool) { isSegmentationOffloadEnabled = on }

    /// The slots that hold a datagram, `0..<count`, as a collection that allocates nothing:
    ///
    /// ```swift
    /// try socket.receive(into: &batch)
    /// for datagram in batch.received { print(datagram.peer, datagram.payload.count) }
    /// ```
    ///
    /// The view reads the batch's memory in place: use it before the batch next changes (a receive, an append,
    /// ``removeAll()``), and not after the batch is gone, as with ``payload(at:)``.
    public var received: Slots { Slots(regions: regions, count: count) }

    /// Slot `index`, after checking that it holds a datagram.
    private func slot(_ index: Int) -> Slot {
        precondition(index >= 0 && index < count, "slot \(index) is not in 0..<\(count)")
        return Slot(regions: regions, index: index)
    }

    /// The bytes of datagram `index` (what was received, or what will be sent).
    public func payload(at index: Int) -> UnsafeRawBufferPointer { slot(index).payload }

    /// The peer of datagram `index`: who sent it, or where it will go.
    public func peer(at index: Int) -> SocketAddress { slot(index).peer }

    /// Whether received datagram `index` was longer than ``bufferSize`` and lost its tail.
    public func isTruncated(at index: Int) -> Bool { slot(index).isTruncated }

    /// Everything the kernel reported about received datagram `index`: sender, real length, truncation and
    /// packet info.
    public func info(at index: Int) -> ReceiveInfo { slot(index).info }

    /// The local address datagram `index` goes out from: the one it was appended with, or for a received
    /// datagram the address it was sent to (with packet info on); nil lets the kernel choose.
    public func source(at index: Int) -> IPAddress? { slot(index).source?.address }

    /// The size of each datagram in slot `index` when it holds a train (received with GRO, or to be sent with
    /// GSO); nil for a single datagram.
    public func segmentSize(at index: Int) -> Int? { slot(index).segmentSize }

    /// How many datagrams slot `index` holds: 1, or the train's length.
    public func segmentCount(at index: Int) -> Int { slot(index).segmentCount }

    /// The bytes of datagram `segment` of slot `index` (``segmentCount(at:)`` of them).
    public func segment(_ segment: Int, at index: Int) -> UnsafeRawBufferPointer { slot(index).segment(segment) }

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

    /// Copies `payload` into the next slot, to be sent to `peer` from the local address `source`, as
    /// ``UDPSocket/send(_:to:from:interfaceIndex:)-(UnsafeRawBufferPointer,_,_,_)`` sends one datagram.
    ///
    /// - Precondition: `source` is of the family that reaches `peer` (IPv4 for a v4-mapped peer).
    /// - Returns: False, adding nothing, when the batch is full or `payload` is larger than ``bufferSize``.
    @discardableResult
    public mutating func append(
        _ payload: UnsafeRawBufferPointer,
        to peer: SocketAddress,
        from source: IPAddress,
        interfaceIndex: UInt32? = nil
    ) -> Bool {
        append(to: peer, from: source, interfaceIndex: interfaceIndex) { buffer in
            guard payload.count <= buffer.count else { return -1 }
            buffer.copyMemory(from: payload)
            return payload.count
        }
    }

    /// Copies `payload` into the next slot, for a *connected* socket's peer: the slot carries no address, so
    /// the kernel sends by the route it cached at `connect` instead of looking one up for every datagram.
    ///
    /// - Returns: False, adding nothing, when the batch is full or `payload` is larger than ``bufferSize``.
    @discardableResult
    public mutating func append(_ payload: UnsafeRawBufferPointer) -> Bool {
        append(segmentSize: nil) { buffer in
            guard payload.count <= buffer.count else { return -1 }
            buffer.copyMemory(from: payload)
            return payload.count
        }
    }

    /// Writes the next datagram (or, with `segmentSize`, train) in place for a *connected* socket's peer, as
    /// ``append(to:from:interfaceIndex:segmentSize:writing:)`` does for an addressed one.
    @discardableResult
    public mutating func append(segmentSize: Int?, writing write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        guard append(to: .any(.inet), segmentSize: segmentSize, writing: write) else { return false }
        regions.headers[count - 1].msg_hdr.msg_namelen = 0
        return true
    }

    /// Where slot `index` goes: nil for a slot without an address (``append(_:)``, a connected socket's).
    func destination(at index: Int) -> SocketAddress? {
        precondition(index >= 0 && index < count, "slot \(index) is not in 0..<\(count)")
        return regions.name(index).1 == 0 ? nil : peer(at: index)
    }

    /// Writes the next datagram in place: `write` fills the slot's buffer and returns how many bytes it used
    /// (or a negative number to add nothing).
    ///
    /// - Parameters:
    ///   - peer: Where the datagram goes.
    ///   - source: The local address to send from (`IP_PKTINFO` / `IPV6_PKTINFO`); nil lets the kernel choose.
    ///     It must be of the family that reaches `peer` (IPv4 for a v4-mapped peer).
    ///   - interfaceIndex: With `source`, the interface to send on: needed for an IPv6 link-local source; for
    ///     IPv4, nil leaves the interface to routing.
    ///   - segmentSize: Send the bytes as a train of datagrams of this size (the last may be shorter), with one
    ///     GSO send; at most ``maximumSegments`` of them. Nil for one datagram.
    ///   - write: Fills the slot's buffer and returns the bytes it used, or a negative number to add nothing.
    /// - Returns: False when the batch was full or `write` declined.
    @discardableResult
    public mutating func append(
        to peer: SocketAddress,
        from source: IPAddress? = nil,
        interfaceIndex: UInt32? = nil,
        segmentSize: Int? = nil,
        writing write: (UnsafeMutableRawBufferPointer) -> Int
    ) -> Bool {
        var packetSource: PacketSource?
        if let source {
            packetSource = PacketSource(source, interfaceIndex: interfaceIndex, to: peer)
            precondition(packetSource != nil, "cannot send to \(peer) from \(source): the families differ")
        }
        guard count < capacity else { return false }
        let slot = count
        let used = write(regions.buffer(slot))
        guard used >= 0 && used <= bufferSize else { return false }
        regions.headers[slot].msg_hdr.msg_namelen = peer.write(to: regions.names + slot)
        regions.stored[slot] = used
        regions.segmentSizes[slot] = segmentSize ?? 0
        regions.sources[slot] = packetSource
        count += 1
        return true
    }

    /// Writes the next datagram in place, addressed to the sender of datagram `index` of `received` (copied
    /// as the kernel reported it, without decoding), and sent from the address it was sent to when `received`
    /// had packet info on: the reply path of a server.
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
        let used = write(regions.buffer(slot))
        guard used >= 0 && used <= bufferSize else { return false }
        let (name, length) = received.regions.name(index)
        UnsafeMutableRawPointer(regions.names + slot).copyMemory(from: name, byteCount: Int(length))
        regions.headers[slot].msg_hdr.msg_namelen = length
        regions.stored[slot] = used
        regions.segmentSizes[slot] = segmentSize ?? 0
        regions.sources[slot] = received.regions.sources[index]
        count += 1
        return true
    }

    /// Prepares slots for `recvmmsg`: full buffers, room for a peer address and ancillary data.
    mutating func prepareForReceive() {
        for slot in 0..<capacity {
            regions.vectors[slot].iov_len = bufferSize
            regions.headers[slot].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            regions.headers[slot].msg_hdr.msg_control = regions.control(slot)
            regions.headers[slot].msg_hdr.msg_controllen = numericCast(controlBufferSize)
            regions.headers[slot].msg_hdr.msg_flags = 0
        }
        count = 0
    }

    /// Records what `recvmmsg` filled in, with the GRO segment size of each train and, with packet info on,
    /// the address each datagram was sent to, which a reply goes out from.
    mutating func finishReceive(_ received: Int) {
        precondition(received >= 0 && received <= capacity, "recvmmsg filled \(received) of \(capacity) slots")
        for slot in 0..<received {
            regions.stored[slot] = min(Int(regions.headers[slot].msg_len), bufferSize)
            regions.segmentSizes[slot] = 0
            regions.sources[slot] = nil
            if regions.headers[slot].msg_hdr.msg_controllen > 0 {
                let control = ReceivedControl(regions.messageHeader(slot))
                regions.segmentSizes[slot] = control.segmentSize
                regions.sources[slot] = control.replySource
            }
        }
        count = received
    }

    /// Whether slot `index` must go out as a train (several datagrams).
    func isTrain(_ index: Int) -> Bool { slot(index).isTrain }

    /// Where slot `index`'s peer address is, as the kernel takes it.
    func name(at index: Int) -> (UnsafeRawPointer, socklen_t) {
        precondition(index >= 0 && index < count, "slot \(index) is not in 0..<\(count)")
        return regions.name(index)
    }

    /// Prepares slots `range` for `sendmmsg`: each vector covers the stored bytes; a slot with a source carries
    /// its packet info, a train its `UDP_SEGMENT` size, and nothing else goes out as ancillary data (what a
    /// receive left there, such as a drop counter, is not valid on send). A slot with neither carries none.
    ///
    /// - Returns: The `mmsghdr` of the range's first slot, for `sendmmsg`.
    mutating func prepareForSend(_ range: Range<Int>) -> UnsafeMutablePointer<cudp_mmsghdr> {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "slots \(range) are not in 0..<\(count)")
        for slot in range {
            regions.vectors[slot].iov_len = regions.stored[slot]
            let train = isTrain(slot)
            let source = regions.sources[slot]
            if train || source != nil {
                let control = regions.control(slot)
                var length = 0
                if let source { length = writePacketSource(source, to: control) }
                if train { length += writeSegmentSize(regions.segmentSizes[slot], to: control + length) }
                regions.headers[slot].msg_hdr.msg_control = control
                regions.headers[slot].msg_hdr.msg_controllen = numericCast(length)
            } else {
                regions.headers[slot].msg_hdr.msg_control = nil
                regions.headers[slot].msg_hdr.msg_controllen = 0
            }
        }
        return regions.headers + range.lowerBound
    }

    /// Where slot `index` goes out from, as the kernel takes it: nil for a slot that lets the kernel choose.
    func packetSource(at index: Int) -> PacketSource? { slot(index).source }

    /// The `mmsghdr` vector, all ``capacity`` slots of it, for `recvmmsg` after ``prepareForReceive()``.
    var headers: UnsafeMutablePointer<cudp_mmsghdr> { regions.headers }
}

extension DatagramBatch {
    /// The slots of a batch that hold a datagram, read in place (``DatagramBatch/received``).
    ///
    /// A view, not a copy: it holds pointers into the batch, so it is valid only while the batch lives and
    /// until it next changes.
    public struct Slots: RandomAccessCollection {
        let regions: Regions
        /// How many slots hold a datagram.
        public let count: Int

        public var startIndex: Int { 0 }
        public var endIndex: Int { count }

        public subscript(position: Int) -> Slot {
            precondition(position >= 0 && position < count, "slot \(position) is not in 0..<\(count)")
            return Slot(regions: regions, index: position)
        }
    }

    /// One slot of a batch: a datagram, or with segmentation offload a train of datagrams from one peer.
    ///
    /// Reads the batch's memory in place; valid while the batch lives and until it next changes, like
    /// ``DatagramBatch/payload(at:)``.
    public struct Slot {
        let regions: Regions
        /// The slot's position in the batch.
        public let index: Int

        /// The bytes received, or to be sent.
        public var payload: UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: regions.buffers + index * regions.bufferSize, count: regions.stored[index])
        }

        /// Who sent it, or where it will go.
        public var peer: SocketAddress {
            let (name, length) = regions.name(index)
            return SocketAddress(storage: name, length: length) ?? .any(.inet)
        }

        /// Whether it was longer than the batch's ``DatagramBatch/bufferSize`` and lost its tail.
        public var isTruncated: Bool { regions.headers[index].msg_hdr.msg_flags & cudp_MSG_TRUNC != 0 }

        /// Everything the kernel reported about it: sender, real length, truncation and packet info.
        public var info: ReceiveInfo {
            var info = ReceiveInfo(
                count: regions.stored[index],
                length: Int(regions.headers[index].msg_len),
                sender: peer,
                isTruncated: isTruncated
            )
            parseControlMessages(regions.messageHeader(index), into: &info)
            return info
        }

        /// The size of each datagram when the slot holds a train (received with GRO, or to be sent with GSO);
        /// nil for a single datagram.
        public var segmentSize: Int? { isTrain ? regions.segmentSizes[index] : nil }

        /// Where it goes out from (``DatagramBatch/source(at:)``).
        var source: PacketSource? { regions.sources[index] }

        /// How many datagrams the slot holds: 1, or the train's length.
        public var segmentCount: Int {
            guard let size = segmentSize else { return 1 }
            return (regions.stored[index] + size - 1) / size
        }

        /// The bytes of datagram `segment` of the slot (``segmentCount`` of them).
        public func segment(_ segment: Int) -> UnsafeRawBufferPointer {
            let payload = payload
            guard let size = segmentSize else {
                precondition(segment == 0, "segment \(segment) is not in slot \(index)")
                return payload
            }
            let start = segment * size
            precondition(segment >= 0 && start < payload.count, "segment \(segment) is not in slot \(index)")
            return UnsafeRawBufferPointer(rebasing: payload[start..<min(start + size, payload.count)])
        }

        var isTrain: Bool {
            let size = regions.segmentSizes[index]
            return size > 0 && size < regions.stored[index]
        }
    }
}

extension DatagramBatch {
    /// Where each region of a batch starts in its one allocation, and how large each is.
    ///
    /// One allocation instead of one per region (eight before): one `malloc` per batch, and the headers a
    /// `recvmmsg` walks sit next to the vectors and names they point at.
    struct Layout {
        /// Enough for every region: the C structs need 8, and 16 keeps control and payload buffers aligned as
        /// `malloc` would.
        static let alignment = 16

        var headers = 0
        var vectors = 0
        var names = 0
        var stored = 0
        var segmentSizes = 0
        var sources = 0
        var controls = 0
        var buffers = 0
        var byteCount = 0

        init(capacity: Int, bufferSize: Int) {
            headers = carve(cudp_mmsghdr.self, capacity)
            vectors = carve(iovec.self, capacity)
            names = carve(sockaddr_storage.self, capacity)
            stored = carve(Int.self, capacity)
            segmentSizes = carve(Int.self, capacity)
            sources = carve(PacketSource?.self, capacity)
            controls = carve(bytes: capacity, times: controlBufferSize)
            buffers = carve(bytes: capacity, times: bufferSize)
        }

        private mutating func carve<T>(_ type: T.Type, _ count: Int) -> Int {
            precondition(MemoryLayout<T>.alignment <= Self.alignment)
            return carve(bytes: count, times: MemoryLayout<T>.stride)
        }

        /// Reserves `count * size` bytes at the next multiple of ``alignment``; returns their offset.
        private mutating func carve(bytes count: Int, times size: Int) -> Int {
            let start = (byteCount + Self.alignment - 1) / Self.alignment * Self.alignment
            let (length, overflow) = count.multipliedReportingOverflow(by: size)
            precondition(!overflow && start <= Int.max - length, "a batch of \(count) × \(size) bytes is too large")
            byteCount = start + length
            return start
        }
    }

    /// Typed pointers to the regions of a batch's allocation. Owns nothing: the batch frees the memory, and
    /// the ``Slots`` views carry a copy of this.
    struct Regions {
        let headers: UnsafeMutablePointer<cudp_mmsghdr>
        let vectors: UnsafeMutablePointer<iovec>
        let names: UnsafeMutablePointer<sockaddr_storage>
        /// Bytes stored in each slot's buffer: the payload to send, or what a receive kept.
        let stored: UnsafeMutablePointer<Int>
        /// Each slot's segment size: 0 for a single datagram.
        let segmentSizes: UnsafeMutablePointer<Int>
        /// Each slot's source address, sent as packet info; nil for none.
        let sources: UnsafeMutablePointer<PacketSource?>
        let controls: UnsafeMutableRawPointer
        let buffers: UnsafeMutableRawPointer
        let bufferSize: Int

        /// Binds and initializes the regions of `memory` as `layout` places them, and points each slot's
        /// header at its vector, name and buffer once, for good.
        init(_ memory: UnsafeMutableRawPointer, _ layout: Layout, capacity: Int, bufferSize: Int) {
            headers = (memory + layout.headers).bindMemory(to: cudp_mmsghdr.self, capacity: capacity)
            headers.initialize(repeating: cudp_mmsghdr(), count: capacity)
            vectors = (memory + layout.vectors).bindMemory(to: iovec.self, capacity: capacity)
            vectors.initialize(repeating: iovec(), count: capacity)
            names = (memory + layout.names).bindMemory(to: sockaddr_storage.self, capacity: capacity)
            names.initialize(repeating: sockaddr_storage(), count: capacity)
            stored = (memory + layout.stored).bindMemory(to: Int.self, capacity: capacity)
            stored.initialize(repeating: 0, count: capacity)
            segmentSizes = (memory + layout.segmentSizes).bindMemory(to: Int.self, capacity: capacity)
            segmentSizes.initialize(repeating: 0, count: capacity)
            sources = (memory + layout.sources).bindMemory(to: PacketSource?.self, capacity: capacity)
            sources.initialize(repeating: nil, count: capacity)
            controls = memory + layout.controls
            controls.initializeMemory(as: UInt8.self, repeating: 0, count: capacity * controlBufferSize)
            buffers = memory + layout.buffers
            self.bufferSize = bufferSize
            for slot in 0..<capacity {
                vectors[slot].iov_base = buffers + slot * bufferSize
                headers[slot].msg_hdr.msg_name = UnsafeMutableRawPointer(names + slot)
                headers[slot].msg_hdr.msg_iov = vectors + slot
                headers[slot].msg_hdr.msg_iovlen = 1
            }
        }

        /// Slot `slot`'s whole payload buffer.
        func buffer(_ slot: Int) -> UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(start: buffers + slot * bufferSize, count: bufferSize)
        }

        /// Slot `slot`'s control (ancillary data) buffer, ``controlBufferSize`` bytes.
        func control(_ slot: Int) -> UnsafeMutableRawPointer { controls + slot * controlBufferSize }

        /// Slot `slot`'s peer address, as the kernel reads and writes it.
        func name(_ slot: Int) -> (UnsafeRawPointer, socklen_t) {
            (UnsafeRawPointer(names + slot), headers[slot].msg_hdr.msg_namelen)
        }

        /// Slot `slot`'s `msghdr`, by address. Not `withUnsafeMutablePointer(to: &headers[slot].msg_hdr)`: Swift
        /// 6.3.1 turns that inout access into invalid IR when Thread Sanitizer instruments it (Scripts/tsan.sh).
        func messageHeader(_ slot: Int) -> UnsafeMutablePointer<msghdr> {
            (headers + slot).pointer(to: \.msg_hdr)!  // a stored property of a C struct always has an address
        }
    }
}
