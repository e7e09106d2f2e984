import UDP

extension HostUDPCounters.Counters {
    /// What each counter gained since `earlier`, in wrapping arithmetic: a counter the kernel wrapped (or
    /// reset, as a new network namespace does) gives a huge number rather than a crash.
    public func changes(since earlier: Self) -> Self {
        var delta = Self()
        for ((name, value), (_, old)) in zip(named, earlier.named) {
            delta.set(name[...], value &- old)
        }
        return delta
    }
}

extension HostUDPCounters {
    /// What each counter gained since `earlier`; IPv6's only when both readings have it.
    public func changes(since earlier: HostUDPCounters) -> HostUDPCounters {
        var delta = HostUDPCounters(ipv4: ipv4.changes(since: earlier.ipv4))
        if let six = ipv6, let before = earlier.ipv6 { delta.ipv6 = six.changes(since: before) }
        return delta
    }

    /// Reads the counters every `interval` until `stop` is requested, and hands `body` what they gained since the
    /// reading before (`first`, for the first call), as `udp stats --watch` prints it. A stop wakes the wait at
    /// once.
    ///
    /// ```swift
    /// try HostUDPCounters.watch(from: try .read(), until: stop) { print($0.ipv4.receiveBufferErrors) }
    /// ```
    ///
    /// - Parameters:
    ///   - first: The reading to count the first changes from.
    ///   - interval: Time between two readings, above zero.
    ///   - stop: Ends the watch when requested.
    ///   - body: Called with the changes after each reading.
    /// - Throws: `HostCountersError` when the counters can no longer be read; `UDPError` when the wait fails.
    public static func watch(
        from first: HostUDPCounters,
        every interval: Duration = .seconds(1),
        until stop: StopSignal,
        _ body: (HostUDPCounters) -> Void
    ) throws {
        precondition(interval > .zero, "a watch needs an interval above zero")
        var previous = first
        var next = MonotonicInstant.now()
        while true {
            next += interval
            if try stop.sleep(until: next) { return }
            let now = try read()
            body(now.changes(since: previous))
            previous = now
        }
    }
}
