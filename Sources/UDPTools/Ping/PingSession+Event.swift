import UDP

extension PingSession {
    /// What happened, in order, for a caller that prints as ping(8) does.
    public enum Event: Sendable {
        /// A reply of `length` bytes from `sender` to probe `sequence`; `clock` says how its round trip was
        /// measured (``Timestamps/user`` when the kernel's stamps were asked for but missing, or stepped).
        case reply(sender: SocketAddress, length: Int, sequence: UInt64, kind: ReplyKind, clock: Timestamps)
        /// Probe `sequence` had no reply within the timeout.
        case lost(sequence: UInt64)
        /// A datagram that was no reply to a probe of this run, with the reason.
        case ignored(sender: SocketAddress, length: Int, reason: IgnoredReason)
        /// An ICMP error for a probe, from a router or the target's host, read from the error queue: who sent
        /// it and what it says (`From 198.18.1.1: time exceeded`); the probes go on.
        case icmpError(DeliveryError)
        /// An error the kernel reported for the path without the error queue's details (`ENOBUFS`, or a
        /// refusal where the queue is not available); the probes go on.
        case pathError(UDPError)
    }

    /// Which clock measures the round trips.
    public enum Timestamps: String, Sendable {
        /// The kernel's software stamps: when the probe left the stack, and when the reply arrived in it. No
        /// scheduling delay of this process in the figure; wall-clock times, so a clock step spoils a sample
        /// (dropped and counted as ``LatencySummary/clockSteps``).
        case kernel
        /// This process's monotonic clock around its send and receive calls, as the driver reads it.
        case user
    }

    /// How a reply counts.
    public enum ReplyKind: Sendable, Equatable {
        /// The first reply within the timeout, with its round trip.
        case first(roundTrip: Duration)
        /// A second reply to the same probe.
        case duplicate(roundTrip: Duration)
        /// A reply after the probe was counted lost (round trip nil once the probe's slot was reused).
        case late(roundTrip: Duration?)
    }

    /// Why a datagram was ignored.
    public enum IgnoredReason: Sendable, Equatable {
        /// It held no probe of this run.
        case noProbe
        /// It carried a sequence number never sent.
        case neverSent(sequence: UInt64)
        /// With a key: it did not open.
        case didNotOpen
    }
}
