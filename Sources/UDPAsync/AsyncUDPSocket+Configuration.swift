import NIOCore

extension AsyncUDPSocket {
    /// How NIO reads and writes the socket: the datagram options NIO implements itself (vector reads, GRO/GSO,
    /// ECN and packet info metadata) and how much it buffers for a slow consumer.
    ///
    /// Options the kernel keeps on the socket (buffer sizes, reuse, TTL, multicast…) are set on the core
    /// `UDPSocket` in the `configure` closure of ``AsyncUDPSocket/bind(to:configuration:eventLoopGroup:logger:configure:)``,
    /// so there is one options API, not two.
    public struct Configuration: Sendable, Hashable {
        /// How many datagrams one `recvmmsg(2)` call may return (NIO's `datagramVectorReadMessageCount`);
        /// 0 reads one datagram per `recvmsg(2)`. Vector reads cost nothing when traffic is light and save a
        /// system call per datagram when it is not.
        public var vectorReadMessageCount: Int
        /// The largest datagram received whole. NIO cuts longer ones silently (it ignores `MSG_TRUNC`), so a
        /// datagram that fills this size is flagged ``InboundDatagram/mayBeTruncated``. NIO reserves this many
        /// bytes per message of a vector read: 2048 × 64 is one 128 KiB buffer per read.
        public var maximumDatagramSize: Int
        /// How many read system calls NIO makes per readable event before it hands the batch over (NIO's
        /// `maxMessagesPerRead`). One batch holds at most `maxMessagesPerRead × max(1, vectorReadMessageCount)`
        /// datagrams.
        public var maxMessagesPerRead: Int
        /// UDP GRO (`UDP_GRO`, NIO's `datagramReceiveOffload` and `datagramReceiveSegmentSize`): the kernel may
        /// coalesce consecutive datagrams from one sender into one *train* with a ``InboundDatagram/segmentSize``.
        /// ``AsyncUDPSocket/Inbound`` splits trains back into datagrams; ``AsyncUDPSocket/Inbound/batches`` hands
        /// them over whole, so a train can be answered with one GSO send. Each read slot is then 64 KiB,
        /// whatever ``maximumDatagramSize`` says, because a train is cut at the slot's end.
        public var receiveOffload: Bool
        /// UDP GSO for every send (`UDP_SEGMENT`, NIO's `datagramSegmentSize`): the kernel splits each buffer
        /// into datagrams of this size. Usually set per datagram instead, with ``OutboundDatagram/segmentSize``.
        public var segmentSize: Int?
        /// Report the ECN bits of each datagram in ``InboundDatagram/ecn`` (`IP_RECVTOS` / `IPV6_RECVTCLASS`,
        /// NIO's `explicitCongestionNotification`).
        public var explicitCongestionNotification: Bool
        /// Report each datagram's destination address and arrival interface in ``InboundDatagram/destination``
        /// and ``InboundDatagram/interfaceIndex`` (`IP_PKTINFO` / `IPV6_RECVPKTINFO`, NIO's `receivePacketInfo`).
        public var receivePacketInfo: Bool
        /// How much NIO buffers for a consumer that is behind, counted in read batches.
        public var backpressure: Backpressure

        /// NIO's watermarks for the inbound buffer, counted in *read batches* (what one readable event yields,
        /// at most `maxMessagesPerRead × max(1, vectorReadMessageCount)` datagrams).
        ///
        /// When `highWatermark` batches wait for the consumer, NIO stops reading the socket; the kernel's receive
        /// queue (`SO_RCVBUF`) then fills and the kernel drops what does not fit, counting it
        /// (``AsyncUDPSocket/kernelDropCount()``). Reading resumes when the consumer has brought the buffer below
        /// `lowWatermark`. Memory is so bounded by
        /// `highWatermark × maxMessagesPerRead × max(1, vectorReadMessageCount)` datagrams.
        public struct Backpressure: Sendable, Hashable {
            /// Read batches waiting for the consumer below which NIO reads the socket again, once it stopped at
            /// ``highWatermark``. 0 or more.
            public var lowWatermark: Int
            /// Read batches waiting for the consumer at which NIO stops reading the socket; above
            /// ``lowWatermark``. Higher absorbs longer bursts at the cost of memory and of latency for what waits.
            public var highWatermark: Int

            /// Watermarks for the inbound buffer, in read batches.
            ///
            /// - Parameters:
            ///   - lowWatermark: Reading resumes when fewer batches than this wait; 0 or more.
            ///   - highWatermark: Reading stops when this many batches wait; must be above `lowWatermark`.
            ///
            /// Watermarks out of that order stop the program (a precondition), as a programming error.
            public init(lowWatermark: Int = 2, highWatermark: Int = 8) {
                precondition(lowWatermark >= 0 && highWatermark > lowWatermark, "need 0 <= low < high")
                self.lowWatermark = lowWatermark
                self.highWatermark = highWatermark
            }
        }

        /// NIO's side of a socket; the defaults suit a server that answers small datagrams.
        ///
        /// - Parameters:
        ///   - vectorReadMessageCount: Datagrams per `recvmmsg(2)`; 0 reads one per `recvmsg(2)`. Not negative.
        ///   - maximumDatagramSize: The largest datagram received whole, in bytes; positive.
        ///   - maxMessagesPerRead: Read system calls per readable event; positive.
        ///   - receiveOffload: Turns UDP GRO on (Linux).
        ///   - segmentSize: A GSO segment size for every send, in bytes; nil sends each buffer as one datagram.
        ///   - explicitCongestionNotification: Reports each datagram's ECN bits.
        ///   - receivePacketInfo: Reports each datagram's destination address and arrival interface.
        ///   - backpressure: How many read batches NIO buffers for a consumer that is behind.
        ///
        /// A negative count or a size that is not positive stops the program (a precondition).
        public init(
            vectorReadMessageCount: Int = 64,
            maximumDatagramSize: Int = 2048,
            maxMessagesPerRead: Int = 4,
            receiveOffload: Bool = false,
            segmentSize: Int? = nil,
            explicitCongestionNotification: Bool = false,
            receivePacketInfo: Bool = false,
            backpressure: Backpressure = Backpressure()
        ) {
            precondition(vectorReadMessageCount >= 0, "vectorReadMessageCount must not be negative")
            precondition(maximumDatagramSize > 0, "maximumDatagramSize must be positive")
            precondition(maxMessagesPerRead > 0, "maxMessagesPerRead must be positive")
            self.vectorReadMessageCount = vectorReadMessageCount
            self.maximumDatagramSize = maximumDatagramSize
            self.maxMessagesPerRead = maxMessagesPerRead
            self.receiveOffload = receiveOffload
            self.segmentSize = segmentSize
            self.explicitCongestionNotification = explicitCongestionNotification
            self.receivePacketInfo = receivePacketInfo
            self.backpressure = backpressure
        }

        /// Bytes NIO reserves for each datagram of a read: a GRO train can be up to 64 KiB.
        var slotSize: Int { receiveOffload ? 65_536 : maximumDatagramSize }

        /// The most datagrams one read batch can hold.
        public var maximumBatchSize: Int { maxMessagesPerRead * max(1, vectorReadMessageCount) }

        var receiveOptions: ReceiveOptions {
            ReceiveOptions(
                slotSize: slotSize,
                reportsECN: explicitCongestionNotification,
                reportsPacketInfo: receivePacketInfo,
                splitsTrains: receiveOffload
            )
        }
    }
}

/// What a received datagram needs to know about the socket's configuration to describe itself.
struct ReceiveOptions: Sendable, Hashable {
    var slotSize: Int
    var reportsECN: Bool
    var reportsPacketInfo: Bool
    var splitsTrains: Bool
}
