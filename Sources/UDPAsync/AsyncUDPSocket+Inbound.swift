import NIOCore

extension AsyncUDPSocket {
    /// The datagrams the socket receives, in arrival order: `for try await datagram in inbound { … }`.
    ///
    /// Iterate it once, from one task, either datagram by datagram or by ``batches``. It ends (returns nil) when
    /// the socket closes or after ``AsyncUDPSocket/stopReceiving()``, and throws `CancellationError` when the
    /// waiting task is cancelled. GRO trains are split back into their datagrams here.
    ///
    /// **Iteration is one-shot.** Leaving the loop (`break`, `return`, a throw) or cancelling the task that waits
    /// in it ends NIO's stream for good: NIO never reads the socket again. A second `for try await` over the
    /// same inbound, or over it and its ``batches``, stops the program: NIO's stream allows one iterator in its
    /// life and traps at the second ("allows only a single AsyncIterator to be created"). So don't build a
    /// timeout by racing a receive against a sleep; run one long-lived reader task that hands every datagram on,
    /// and time requests out elsewhere, as ``AsyncRequestReplyClient`` does.
    public struct Inbound: AsyncSequence, Sendable {
        public typealias Element = InboundDatagram

        let stream: NIOAsyncChannelInboundStream<ReadBatch>
        let counters: InboundCounters
        let options: ReceiveOptions

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(base: stream.makeAsyncIterator(), counters: counters, options: options)
        }

        /// The same datagrams, one read batch at a time: what one readable event read, handed over together, with
        /// GRO trains whole. Answer a batch with one ``AsyncUDPSocket/Outbound/send(contentsOf:)``, and its
        /// replies leave in one write and one flush (`sendmmsg`), as from a NIO handler's `channelReadComplete`.
        public var batches: Batches { Batches(inbound: self) }

        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: NIOAsyncChannelInboundStream<ReadBatch>.AsyncIterator
            let counters: InboundCounters
            let options: ReceiveOptions
            var batch: [AddressedEnvelope<ByteBuffer>] = []
            var index = 0
            /// The datagrams of a GRO train being handed out, last first.
            var train: [InboundDatagram] = []

            init(
                base: NIOAsyncChannelInboundStream<ReadBatch>.AsyncIterator,
                counters: InboundCounters,
                options: ReceiveOptions
            ) {
                self.base = base
                self.counters = counters
                self.options = options
            }

            public mutating func next() async throws -> InboundDatagram? {
                if let datagram = train.popLast() { return datagram }
                while index == batch.count {
                    guard let next = try await base.next() else { return nil }
                    counters.consumed(next.envelopes.count)
                    batch = next.envelopes
                    index = 0
                }
                let datagram = InboundDatagram(envelope: batch[index], options: options)
                index += 1
                guard options.splitsTrains, datagram.segmentSize != nil else { return datagram }
                train = datagram.splitTrain.reversed()
                return train.popLast()
            }
        }
    }

    /// The inbound datagrams grouped by read batch; see ``Inbound/batches``.
    public struct Batches: AsyncSequence, Sendable {
        public typealias Element = InboundBatch

        let inbound: Inbound

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(
                base: inbound.stream.makeAsyncIterator(),
                counters: inbound.counters,
                options: inbound.options
            )
        }

        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: NIOAsyncChannelInboundStream<ReadBatch>.AsyncIterator
            let counters: InboundCounters
            let options: ReceiveOptions

            public mutating func next() async throws -> InboundBatch? {
                guard let batch = try await base.next() else { return nil }
                counters.consumed(batch.envelopes.count)
                return InboundBatch(envelopes: batch.envelopes, options: options)
            }
        }
    }
}

/// The datagrams one readable event delivered (at most ``AsyncUDPSocket/Configuration/maximumBatchSize``), with
/// GRO trains whole (see ``InboundDatagram/segments``).
public struct InboundBatch: RandomAccessCollection, Sendable {
    let envelopes: [AddressedEnvelope<ByteBuffer>]
    let options: ReceiveOptions

    public var startIndex: Int { envelopes.startIndex }
    public var endIndex: Int { envelopes.endIndex }
    public subscript(position: Int) -> InboundDatagram {
        InboundDatagram(envelope: envelopes[position], options: options)
    }
}
