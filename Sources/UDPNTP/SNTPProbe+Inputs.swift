import UDP
import UDPPatterns

extension SNTPProbe {
    /// Takes a datagram: the reply to the request in flight when it is one, else ignored and counted.
    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        if finished { return }
        let sender = datagram.sender
        guard sender.unmapped == server.unmapped else {
            ignore(sender, .wrongSource)
            return
        }
        // Between requests (or before the request left) nothing can be a reply: what comes is late, or forged.
        guard let exchange, let sentAt = exchange.sentAt else {
            ignore(sender, .rejected(Self.rejectionBetweenRequests(datagram.payload)))
            return
        }
        switch exchange.request.check(datagram: datagram.payload) {
        case .invalid(let rejection):
            ignore(sender, .rejected(rejection))
        case .kissOfDeath(let code):
            lastFailure = .kissOfDeath(code)
            guard code == .rate else {
                emit(.kissOfDeath(index: exchange.index, code, nextInterval: nil))
                end(exchange, goOn: false)
                return
            }
            // Twice the interval, and at least two seconds: the server asked for fewer requests. Never past the
            // longest, and never shorter than the one asked for.
            if interval < Self.longestInterval {
                interval = min(max(interval * 2, .seconds(2)), Self.longestInterval)
            }
            emit(.kissOfDeath(index: exchange.index, code, nextInterval: interval))
            end(exchange, goOn: true)
        case .reply(let reply):
            let clock: Timestamps
            let sample: NTPSample
            if kernelStamps, datagram.info.timestamp != nil, let kernelSentAt = exchange.kernelSentAt {
                clock = .kernel
                sample = NTPSample(reply: reply, sentAt: kernelSentAt, receivedAt: datagram.receivedAt)
            } else {
                clock = .user
                sample = NTPSample(reply: reply, sentAt: sentAt, receivedAt: datagram.receivedAt)
            }
            samples.append((sample, clock))
            emit(.sample(index: exchange.index, sample, clock: clock))
            end(exchange, goOn: true)
        }
    }

    /// Takes an ICMP error: it ends the request in flight only when it quotes it
    /// (``SNTPRequest/check(_:server:)``); any other is counted.
    public mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        if finished { return }
        guard let exchange else {
            // About a request that has ended (or none): it ends nothing.
            let request = lastRequest ?? SNTPRequest(nonce: 0)
            ignore(error, request.check(error, server: server) ?? .icmpWrongRequest)
            return
        }
        if believe(error, exchange.request) { fail(exchange, error) }
    }

    /// Takes what became of the request's send: T1 and its stamp's number, a failure to judge and retry, or
    /// the kernel's send stamp.
    public mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        guard !finished, var exchange else { return }
        switch report {
        case .sent(let datagram, _, let sentAt, let stampID):
            guard exchange.sentAt == nil, !exchange.queued, datagram.payload == exchange.request.packet.encoded
            else { return }
            exchange.sentAt = sentAt
            exchange.stampID = stampID
            exchange.deadline = now + timeout
            self.exchange = exchange
        case .failed(let datagram, _, let error):
            guard exchange.sentAt == nil, !exchange.queued, datagram.payload == exchange.request.packet.encoded
            else { return }
            guard error.isFromICMP else {
                sendError = error
                self.exchange = nil
                finished = true
                return
            }
            // The send never left: it failed on an ICMP error that an earlier datagram drew, or a forger sent.
            if let event = error.deliveryError, believe(event, exchange.request) {
                fail(exchange, event)
                return
            }
            guard exchange.tries >= Self.sendTries else {
                exchange.queued = true
                self.exchange = exchange
                return
            }
            lastFailure = .unsent(tries: Self.sendTries)
            emit(.timeout(index: exchange.index))
            end(exchange, goOn: true)
        case .kernelTimestamp(let id, _, let time):
            guard exchange.stampID == id else { return }
            exchange.kernelSentAt = time
            self.exchange = exchange
        }
    }

    /// Takes the passing of the reply's deadline: the request timed out. Between requests it does nothing:
    /// ``pollTransmit(at:)`` gives the next request.
    public mutating func handleTimeout(at now: MonotonicInstant) {
        guard !finished, let exchange, now >= exchange.deadline else { return }
        lastFailure = .noReply(timeout: timeout)
        emit(.timeout(index: exchange.index))
        end(exchange, goOn: true)
    }

    /// Ends `exchange`; the next request may go out `interval` after it started, unless it was the last or the
    /// run stops.
    private mutating func end(_ exchange: Exchange, goOn: Bool) {
        self.exchange = nil
        requestsEnded += 1
        if !goOn || requestsStarted >= count {
            finished = true
        } else {
            nextSend = exchange.started + interval
        }
    }

    /// Ends `exchange` with an ICMP error about it.
    private mutating func fail(_ exchange: Exchange, _ error: DeliveryError) {
        lastFailure = .deliveryError(error)
        emit(.deliveryError(index: exchange.index, error))
        end(exchange, goOn: true)
    }

    /// Whether `error` is about `request` (``SNTPRequest/check(_:server:)``); one that is not is counted.
    private mutating func believe(_ error: DeliveryError, _ request: SNTPRequest) -> Bool {
        guard let reason = request.check(error, server: server) else { return true }
        ignore(error, reason)
        return false
    }

    private mutating func ignore(_ error: DeliveryError, _ reason: SNTPIgnoredReason) {
        ignore(SocketAddress(error.offender ?? error.destination.ip, port: 0), reason)
    }

    private mutating func ignore(_ sender: SocketAddress, _ reason: SNTPIgnoredReason) {
        ignoredByReason.record(reason)
        emit(.ignored(sender: sender.unmapped, reason: reason))
    }

    /// Queues `event`; past ``eventLimit`` unpolled ones, an `ignored` one is dropped (its count stays).
    private mutating func emit(_ event: Event) {
        if case .ignored = event, events.count >= Self.eventLimit { return }
        events.append(event)
    }

    /// Why a datagram from the server that came when no request was waiting is no reply: its malformation,
    /// else its origin, which echoes no request in flight (as the next request, whose nonce is new, would
    /// judge it).
    static func rejectionBetweenRequests(_ payload: ArraySlice<UInt8>) -> SNTPRequest.Rejection {
        do throws(NTPPacket.Malformation) {
            _ = try NTPPacket(parsing: payload)
            return .wrongOrigin
        } catch {
            switch error {
            case .tooShort: return .malformed
            case .badExtensionField: return .badExtensionField
            case .trailingBytes: return .trailingBytes
            }
        }
    }
}
