import CUDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One entry of a socket's error queue (``UDPSocket/receiveErrorQueue()``).
public enum ErrorQueueEvent: Sendable, Hashable {
    /// An ICMP or local error for a datagram this socket sent.
    case deliveryError(DeliveryError)
    /// When a datagram this socket sent left the stack.
    case sendTimestamp(SendTimestamp)
}

/// When the kernel handed a datagram this socket sent to the device (a software transmit timestamp,
/// `SCM_TSTAMP_SND`), read from the error queue once send timestamps are on
/// (``UDPSocket/setSendTimestamps(_:)``).
public struct SendTimestamp: Sendable, Hashable {
    /// Which datagram: 0 for the first sent after send timestamps were turned on, then 1, 2, … (the kernel's
    /// `SOF_TIMESTAMPING_OPT_ID` counter; a send the kernel refused may still take a number).
    public var id: UInt32
    /// When it left (`CLOCK_REALTIME`), comparable with ``ReceiveInfo/timestamp``.
    public var time: WallClockTime

    /// Creates a timestamp from its parts, for tests; ``UDPSocket/receiveErrorQueue()`` reads the real ones.
    public init(id: UInt32, time: WallClockTime) {
        self.id = id
        self.time = time
    }
}

// Kernel timestamps (SO_TIMESTAMPING, software stamps): when each datagram arrived, and when each one sent left.
// Off by default and free when off; one option holds both directions, so each setter keeps the other's flags.
extension UDPSocket {
    private var receiveStampFlags: CInt { cudp_SOF_TIMESTAMPING_RX_SOFTWARE | cudp_SOF_TIMESTAMPING_SOFTWARE }
    private var sendStampFlags: CInt {
        cudp_SOF_TIMESTAMPING_TX_SOFTWARE | cudp_SOF_TIMESTAMPING_SOFTWARE | cudp_SOF_TIMESTAMPING_OPT_ID
            | cudp_SOF_TIMESTAMPING_OPT_TSONLY
    }

    /// Whether each received datagram carries the kernel's receive timestamp (``ReceiveInfo/timestamp``).
    public var receiveTimestamps: Bool {
        get throws(UDPError) { try timestampingFlags & cudp_SOF_TIMESTAMPING_RX_SOFTWARE != 0 }
    }

    /// Stamps each received datagram with the time the kernel received it (``ReceiveInfo/timestamp``, also
    /// in a ``DatagramBatch``'s ``DatagramBatch/info(at:)``): a latency measure without the scheduler's
    /// delay in waking the receiver.
    ///
    /// The corresponding C option is `SO_TIMESTAMPING` with `SOF_TIMESTAMPING_RX_SOFTWARE` (Linux only).
    public func setReceiveTimestamps(_ on: Bool) throws(UDPError) {
        try setTimestampingFlags(receiveStampFlags, on)
    }

    /// Whether sent datagrams' timestamps are queued (``setSendTimestamps(_:)``).
    public var sendTimestamps: Bool {
        get throws(UDPError) { try timestampingFlags & cudp_SOF_TIMESTAMPING_TX_SOFTWARE != 0 }
    }

    /// Queues, for each datagram sent from now on, the time the kernel handed it to the device, as a
    /// ``SendTimestamp`` numbered from 0, read with ``receiveErrorQueue()`` (poll(2) reports them as
    /// `POLLERR`, and they take room from the receive buffer until read).
    ///
    /// The corresponding C option is `SO_TIMESTAMPING` with `SOF_TIMESTAMPING_TX_SOFTWARE`, `OPT_ID` and
    /// `OPT_TSONLY` (Linux only). Turning it on again restarts the numbering.
    public func setSendTimestamps(_ on: Bool) throws(UDPError) {
        try setTimestampingFlags(sendStampFlags, on)
    }

    private var timestampingFlags: CInt {
        get throws(UDPError) {
            guard cudp_SO_TIMESTAMPING >= 0 else { return 0 }
            return try option(SOL_SOCKET, cudp_SO_TIMESTAMPING, as: CInt.self)
        }
    }

    private func setTimestampingFlags(_ flags: CInt, _ on: Bool) throws(UDPError) {
        guard cudp_SO_TIMESTAMPING >= 0 else {
            throw UDPError(.unsupported, .setOption, detail: "kernel timestamps (SO_TIMESTAMPING) need Linux")
        }
        var current = try timestampingFlags
        // The software flag reports software stamps in both directions: keep it while either is on.
        let other = (flags == receiveStampFlags ? sendStampFlags : receiveStampFlags) & ~cudp_SOF_TIMESTAMPING_SOFTWARE
        if on {
            current |= flags
        } else {
            current &= ~flags
            if current & other != 0 { current |= cudp_SOF_TIMESTAMPING_SOFTWARE }
        }
        do throws(UDPError) {
            try setOption(SOL_SOCKET, cudp_SO_TIMESTAMPING, current)
        } catch {
            var error = error
            if error.errno == .invalidArgument || error.errno == .protocolNotAvailable { error.code = .unsupported }
            throw error
        }
    }
}
