import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The descriptors an engine sleeps on — its sockets and its ``StopSignal`` — kept as one `pollfd` array
/// that changes only when a socket comes or goes, so a wait builds nothing.
///
/// Entry 0 is the stop signal's; ``wait(until:stop:)`` returns early when it is raised.
struct PollSet {
    // poll(2) skips a negative descriptor: entry 0 holds the stop signal's once a wait names it.
    private var entries = [pollfd(fd: -1, events: Int16(POLLIN), revents: 0)]

    init() {}

    /// Watches `descriptor` for reading (a datagram, or an error the kernel queued for it).
    mutating func add(_ descriptor: CInt) {
        entries.append(pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0))
    }

    /// Stops watching `descriptor`; O(n), on the rare path of a socket closing.
    mutating func remove(_ descriptor: CInt) {
        if let index = entries.indices.dropFirst().first(where: { entries[$0].fd == descriptor }) {
            entries.swapAt(index, entries.count - 1)
            entries.removeLast()
        }
    }

    /// Sleeps until a watched socket is readable, the stop signal is raised, or `deadline` (on
    /// ``MonotonicClock``) passes; nil waits for ever. Without a stop signal only a socket or the deadline wakes it.
    ///
    /// - Returns: False when it woke for no socket: the deadline passed, or a stop was requested.
    mutating func wait(until deadline: UInt64?, stop: StopSignal?) throws(UDPError) -> Bool {
        entries[0].fd = stop?.descriptor ?? -1
        let entryCount = nfds_t(entries.count)
        let ready = try entries.withUnsafeMutableBufferPointer { buffer throws(UDPError) in
            try waitForReadable(buffer.baseAddress!, entryCount, until: deadline)
        }
        return ready > 0 && (ready > 1 || entries[0].revents == 0)
    }

    /// What the last ``wait(until:stop:)`` found on the socket added `position`-th (from 0): `POLLIN`,
    /// `POLLERR`, or 0. Positions hold while no socket is removed.
    func readiness(at position: Int) -> Int16 {
        entries[position + 1].revents
    }

    /// Calls `body` with each socket that the last ``wait(until:stop:)`` found readable.
    func forEachReadable(_ body: (CInt) -> Void) {
        for entry in entries.dropFirst() where entry.revents != 0 { body(entry.fd) }
    }
}

extension StopSignal {
    /// Sleeps until `descriptor` is readable (a datagram, or an error the kernel queued for it), this signal
    /// is raised, or `deadline` passes; nil waits for ever.
    ///
    /// - Returns: True when `descriptor` is readable; false when the deadline passed or a stop was requested.
    public func wait(forReadable descriptor: CInt, until deadline: MonotonicInstant?) throws(UDPError) -> Bool {
        var entries = (
            pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: self.descriptor, events: Int16(POLLIN), revents: 0)
        )
        return try withUnsafeMutablePointer(to: &entries) { pair throws(UDPError) in
            try pair.withMemoryRebound(to: pollfd.self, capacity: 2) { entries throws(UDPError) in
                _ = try waitForReadable(entries, 2, until: deadline?.nanoseconds)
                return entries[0].revents != 0
            }
        }
    }
}

extension StopSignal {
    /// Sleeps until `deadline` or a stop request, whichever comes first.
    ///
    /// - Returns: True when it woke because a stop was requested.
    public func sleep(until deadline: MonotonicInstant) throws(UDPError) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        _ = try waitForReadable(&entry, 1, until: deadline.nanoseconds)
        return isRequested
    }
}

/// `poll(2)` until `deadline`: a signal's EINTR is retried by the core's helper, each try with the time left,
/// so the deadline holds.
private func waitForReadable(
    _ entries: UnsafeMutablePointer<pollfd>,
    _ count: nfds_t,
    until deadline: UInt64?
) throws(UDPError) -> CInt {
    try retryingInterrupts(.wait) {
        var timeout: CInt = -1
        if let deadline {
            let now = MonotonicClock.now()
            // Rounded up: a wake a little early would only spin back into another wait.
            timeout = deadline > now ? CInt(clamping: (deadline - now + 999_999) / 1_000_000) : 0
        }
        return poll(entries, count, timeout)
    }
}
