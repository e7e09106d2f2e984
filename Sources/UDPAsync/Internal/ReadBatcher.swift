import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The datagrams of one read cycle (one readable event: up to `maxMessagesPerRead` `recvmmsg` calls), handed to
/// the async side as one element. The async sequence's per-element cost (a lock, perhaps a task switch) is so
/// paid once per batch rather than once per datagram, and a consumer can answer the whole batch with one write
/// and one flush, as a NIO handler does in `channelReadComplete`.
struct ReadBatch: Sendable {
    var envelopes: [AddressedEnvelope<ByteBuffer>]
}

/// Counts what enters and leaves the inbound buffer, so the memory a slow consumer pins can be watched.
///
/// `Atomic` values in `let`s make the class `Sendable`: the event loop adds and the consumer subtracts.
final class InboundCounters: Sendable {
    private let datagramsIn = Atomic<Int>(0)
    private let datagramsOut = Atomic<Int>(0)
    private let batchesIn = Atomic<Int>(0)
    private let batchesOut = Atomic<Int>(0)
    // Written only on the event loop (in `delivered`), read anywhere.
    private let peakDatagrams = Atomic<Int>(0)
    private let peakBatches = Atomic<Int>(0)
    let swallowedErrors = Atomic<Int>(0)

    /// Called on the event loop when a batch enters NIO's buffer.
    func delivered(_ count: Int) {
        let datagrams = datagramsIn.wrappingAdd(count, ordering: .relaxed).newValue
        let batches = batchesIn.wrappingAdd(1, ordering: .relaxed).newValue
        let bufferedDatagrams = datagrams - datagramsOut.load(ordering: .relaxed)
        let bufferedBatches = batches - batchesOut.load(ordering: .relaxed)
        if bufferedDatagrams > peakDatagrams.load(ordering: .relaxed) {
            peakDatagrams.store(bufferedDatagrams, ordering: .relaxed)
        }
        if bufferedBatches > peakBatches.load(ordering: .relaxed) {
            peakBatches.store(bufferedBatches, ordering: .relaxed)
        }
    }

    /// Called by the consumer when it takes a batch out of NIO's buffer.
    func consumed(_ count: Int) {
        datagramsOut.wrappingAdd(count, ordering: .relaxed)
        batchesOut.wrappingAdd(1, ordering: .relaxed)
    }

    var snapshot: AsyncUDPSocket.InboundStatistics {
        let datagramsOut = datagramsOut.load(ordering: .relaxed)
        let batchesOut = batchesOut.load(ordering: .relaxed)
        return AsyncUDPSocket.InboundStatistics(
            datagramsReceived: datagramsIn.load(ordering: .relaxed),
            datagramsBuffered: max(0, datagramsIn.load(ordering: .relaxed) - datagramsOut),
            peakDatagramsBuffered: peakDatagrams.load(ordering: .relaxed),
            batchesBuffered: max(0, batchesIn.load(ordering: .relaxed) - batchesOut),
            peakBatchesBuffered: peakBatches.load(ordering: .relaxed),
            errorsIgnored: swallowedErrors.load(ordering: .relaxed)
        )
    }
}

/// Collects the datagrams of a read cycle into one ``ReadBatch`` and keeps recoverable read errors away from
/// `NIOAsyncChannel`, which would end the inbound sequence on any error.
///
/// It sits in front of NIO's async handler. `DatagramChannel` reports only two read errors without closing:
/// `ECONNREFUSED` (an ICMP port unreachable, for a connected socket) and `ENOMEM`. Neither says the socket is
/// broken, so one peer's closed port must not end the receive loop serving thousands of others.
final class ReadBatcher: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias InboundOut = ReadBatch

    private var pending: [AddressedEnvelope<ByteBuffer>] = []
    private let counters: InboundCounters
    private let logger: Logger?

    init(counters: InboundCounters, logger: Logger?) {
        self.counters = counters
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending.append(Self.unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !pending.isEmpty {
            let batch = ReadBatch(envelopes: pending)
            // The batch keeps the array; the next one gets its own, sized once rather than grown by doubling.
            pending = []
            pending.reserveCapacity(batch.envelopes.count)
            counters.delivered(batch.envelopes.count)
            context.fireChannelRead(Self.wrapInboundOut(batch))
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED || error.errnoCode == ENOMEM {
            counters.swallowedErrors.wrappingAdd(1, ordering: .relaxed)
            logger?.debug("ignored a recoverable read error", metadata: ["error": "\(error)"])
            return
        }
        context.fireErrorCaught(error)
    }
}

@available(*, unavailable)
extension ReadBatcher: Sendable {}
