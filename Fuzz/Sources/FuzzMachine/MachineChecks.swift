import UDP
import UDPPatterns

/// Stops the run unless `machine` has a deadline exactly while it runs, and that deadline is after `now`: a
/// finished machine that still wants waking, or a running one that never will, is a bug, and so is a deadline
/// a driver would wake for at once, again and again.
public func checkDeadlineWhileRunning(_ machine: some DatagramMachine, at now: MonotonicInstant) {
    switch (machine.isFinished, machine.nextDeadline) {
    case (true, nil): break
    case (false, let deadline?) where deadline > now: break
    default:
        fatalError("finished \(machine.isFinished), deadline \(String(describing: machine.nextDeadline)) at \(now)")
    }
}

/// Stops the run when `machine`'s deadline is before `now`, or at it unless `allowingNow` (something due at
/// once, which the driver's next turn takes).
public func checkDeadlineNotPast(
    _ machine: some DatagramMachine,
    at now: MonotonicInstant,
    allowingNow: Bool = false
) {
    guard let deadline = machine.nextDeadline else { return }
    if deadline < now || (deadline == now && !allowingNow) { fatalError("a deadline in the past: \(deadline)") }
}

extension CountingMachine {
    /// Stops the run unless every one of `addUp` holds: the machine's `counters` do not account for the
    /// ``datagrams`` it was handed, or the sends.
    public func checkCounters(_ counters: Any, addUp conditions: Bool...) {
        guard !conditions.contains(false) else {
            fatalError("the counters do not add up: \(counters), \(datagrams) datagrams")
        }
    }
}
