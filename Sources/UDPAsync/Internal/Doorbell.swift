import NIOConcurrencyHelpers
import UDP

/// Wakes one task that sleeps until a deadline: ``AsyncRequestReplyClient``'s transmit loop waits here for
/// the next retry deadline, and a new request rings to have its first attempt sent at once.
///
/// A ring with nobody waiting is kept (once), so a ring that lands between the loop's look at its work and
/// its wait is not lost. An `AsyncStream` would do the same, but waiting on one with a timeout means racing
/// its iterator against a sleep, and a cancelled iterator ends the stream for good.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = NIOLockedValueBox(State())

    /// Wakes the waiting task, or the next one to wait.
    func ring() {
        let waiter = state.withLockedValue { state in
            guard let waiter = state.waiter else {
                state.rung = true
                return CheckedContinuation<Void, Never>?.none
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns when rung (or rung since the last wait), when `deadline` passes, or when the task is cancelled.
    ///
    /// - Parameter deadline: When to stop waiting; nil waits for a ring alone.
    func wait(until deadline: MonotonicInstant?) async {
        guard let deadline else { return await wait() }
        // Task.sleep knows no MonotonicInstant: sleep for what is left. ContinuousClock also counts a suspend
        // (CLOCK_BOOTTIME) where MonotonicInstant does not, so after one the sleep may end before the deadline;
        // the transmit loop then finds nothing due and waits again for the rest.
        let remaining = deadline - MonotonicInstant.now()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // A cancelled sleep must not ring: the ring would be kept and cut the next wait short.
                guard (try? await Task.sleep(for: remaining, clock: .continuous)) != nil else { return }
                self.ring()
            }
            await wait()
            group.cancelAll()
        }
    }

    private func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let alreadyRung = state.withLockedValue { state in
                    if state.rung {
                        state.rung = false
                        return true
                    }
                    state.waiter = waiter
                    return false
                }
                if alreadyRung { waiter.resume() }
            }
        } onCancel: {
            ring()
        }
    }
}
