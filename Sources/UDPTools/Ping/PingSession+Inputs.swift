import UDP
import UDPPatterns

extension PingSession {
    /// Takes a probe's send report: sent (the probe is in flight from `now`, its send stamp will carry the
    /// report's `stampID`), failed (reported, then tried once more, or the run ends), or the kernel's send stamp.
    public mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        note(now)
        switch report {
        case .sent(_, _, _, let stampID):
            guard let pending = unreported, ended == nil else { return }
            unreported = nil
            changingTracker().tracker.sent(1, at: now.nanoseconds)
            kernelRoundTrips.sent(sequence: pending.sequence, stampID: stampID)
        case .failed(_, _, let failure):
            guard var pending = unreported, ended == nil else { return }
            guard goesOn(after: failure) else {
                error = failure
                end(at: now)
                return
            }
            // The error an earlier probe drew is cleared by being reported: one more try goes out. After that
            // the probe counts as tried, not sent.
            if pending.tries < Self.sendTries {
                pending.tries += 1
                pending.resend = true
                unreported = pending
            } else {
                unreported = nil
                endIfDone(at: now)
            }
        case .kernelTimestamp(let id, _, let time):
            kernelRoundTrips.record(SendTimestamp(id: id, time: time))
        }
    }

    /// Takes a datagram: a reply to a probe of this run (first, duplicate or late), or one ignored with its
    /// reason.
    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        note(now)
        guard ended == nil else { return }
        let sender = datagram.sender.unmapped
        let length = datagram.info.length
        let size = size
        let probe = probe
        let sequence: UInt64?
        if sealing != nil {
            guard case .success(let opened) = sealing!.open(Array(datagram.payload)) else {
                foreign += 1
                emit(.ignored(sender: sender, length: length, reason: .didNotOpen))
                return
            }
            sequence = opened.withUnsafeBytes { probe.sequence(in: $0, requestSize: size) }
        } else {
            sequence = datagram.payload.withUnsafeBytes { probe.sequence(in: $0, requestSize: size) }
        }
        guard let sequence else {
            foreign += 1
            emit(.ignored(sender: sender, length: length, reason: .noProbe))
            return
        }
        handleReply(
            sender,
            length,
            sequence: sequence,
            kernelStamp: datagram.info.timestamp?.nanosecondsSince1970,
            at: now
        )
        endIfDone(at: now)
    }

    /// Takes an ICMP error (or a local one) read from the error queue: handed on and counted; the probes go on.
    /// The socket is connected, so the kernel queues only errors about datagrams to ``target``.
    public mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        note(now)
        guard ended == nil else { return }
        icmpErrors += 1
        emit(.icmpError(error))
    }

    /// Counts every probe whose timeout has passed as lost; the next probe goes in ``pollTransmit(at:)``.
    public mutating func handleTimeout(at now: MonotonicInstant) {
        note(now)
        guard ended == nil else { return }
        changingTracker().tracker.expire(now: now.nanoseconds) { emit(.lost(sequence: $0)) }
        endIfDone(at: now)
    }

    /// Classifies a reply to probe `sequence` and hands it on: the kernel's round trip where asked for and
    /// sound, else the user-space one, and the event says which.
    private mutating func handleReply(
        _ sender: SocketAddress,
        _ length: Int,
        sequence: UInt64,
        kernelStamp: UInt64?,
        at now: MonotonicInstant
    ) {
        var clock = Timestamps.user
        var kernel: UInt64?
        if timestamps == .kernel, let receivedAt = kernelStamp {
            switch kernelRoundTrips.roundTrip(sequence: sequence, receivedAt: receivedAt) {
            case .roundTrip(let roundTrip):
                kernel = roundTrip
                clock = .kernel
            case .clockStep: clockSteps += 1
            case .missing: break
            }
        }
        let kind: ReplyKind
        switch changingTracker().tracker.handleReply(sequence: sequence, at: now.nanoseconds) {
        case .received(let roundTrip, _):
            userLatency.record(nanoseconds: roundTrip)
            if timestamps == .user {
                latency.record(nanoseconds: roundTrip)
            } else if let kernel {
                latency.record(nanoseconds: kernel)
            }
            kind = .first(roundTrip: Self.duration(kernel ?? roundTrip))
        case .duplicate(let roundTrip):
            kind = .duplicate(roundTrip: Self.duration(kernel ?? roundTrip))
        case .late(let roundTrip):
            clock = .user
            kind = .late(roundTrip: roundTrip.map(Self.duration))
        case .unknown:
            foreign += 1
            emit(.ignored(sender: sender, length: length, reason: .neverSent(sequence: sequence)))
            return
        }
        emit(.reply(sender: sender, length: length, sequence: sequence, kind: kind, clock: clock))
    }

    /// Hands on and counts an error the kernel failed a send with, and says whether the probes go on after it,
    /// as ping(8)'s do after an ICMP port or host unreachable; any other ends the run.
    private mutating func goesOn(after failure: UDPError) -> Bool {
        if let event = failure.deliveryError {
            icmpErrors += 1
            emit(.icmpError(event))
            return true
        }
        switch failure.errno {
        case .connectionRefused?, .hostUnreachable?, .networkUnreachable?, .noBufferSpace?:
            errors += 1
            emit(.pathError(failure))
            return true
        default:
            return false
        }
    }

    private static func duration(_ nanoseconds: UInt64) -> Duration {
        .nanoseconds(Int64(clamping: nanoseconds))
    }
}
