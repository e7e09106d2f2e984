import CUDPTools
import Synchronization
import Testing
import UDP
import UDPTools

#if canImport(Glibc)
import Glibc
#endif

/// The stop signal against the races of a process: signals while a stop signal is freed, and raises while a
/// watched socket is unwatched, closed and its number reused. Each is a bounded stress run; a failure of the
/// first shows as a crash (or under the address sanitizer), of the second as a socket shut that was never
/// watched.
@Suite(.serialized) struct StopSignalRaceTests {
    @Test("SIGTERM handled on one thread while another makes and frees signal-following stop signals")
    func signalsWhileStopSignalsAreFreed() throws {
        // The handler stays installed once made, so no SIGTERM below can end the test process. It records the
        // signal for good: no other test of this process follows signals.
        let keeper = try StopSignal.catchingInterrupts()
        let raised = Atomic<Int>(0)
        let done = Atomic<Bool>(false)
        var threads = WorkerThreads<Void>()
        try threads.start {
            // raise(3) runs the handler on this thread, beside the other's deinit; bounded in count and time.
            let deadline = MonotonicClock.now() + 10_000_000_000
            while !done.load(ordering: .acquiring) && raised.load(ordering: .relaxed) < 1_000_000
                && MonotonicClock.now() < deadline
            {
                raise(SIGTERM)
                raised.add(1, ordering: .relaxed)
            }
        }
        var freed = 0
        let deadline = MonotonicClock.now() + 10_000_000_000
        while raised.load(ordering: .relaxed) < 50_000 && freed < 1_000_000 && MonotonicClock.now() < deadline {
            _ = try StopSignal.catchingInterrupts()
            freed += 1
        }
        done.store(true, ordering: .releasing)
        _ = threads.join()
        #expect(raised.load(ordering: .relaxed) >= 50_000 && freed > 1_000, "\(freed) freed")
        #expect(keeper.isRequested, "the handlers recorded SIGTERM")
    }

    @Test("a raise never shuts a socket whose number was reused after its watched one was closed")
    func raisesNeverShutAReusedNumber() throws {
        let stop = try StopSignal()
        let done = Atomic<Bool>(false)
        var raisers = WorkerThreads<Int>()
        for _ in 0..<2 {
            try raisers.start {
                var raised = 0
                let deadline = MonotonicClock.now() + 10_000_000_000
                while !done.load(ordering: .acquiring) && raised < 2_000_000 && MonotonicClock.now() < deadline {
                    stop.request()
                    raised += 1
                }
                return raised
            }
        }
        var reused = 0
        var shut = 0
        let deadline = MonotonicClock.now() + 3_000_000_000
        for _ in 0..<20_000 where MonotonicClock.now() < deadline {
            let watched = try UDPSocket(bindingTo: .loopbackV4(port: 0))
            let number = watched.descriptor
            stop.watching(watched) { _ in }
            try watched.close()
            // Never watched: nothing may shut it. A stale shutdown of `number` would land here.
            let fresh = try UDPSocket(bindingTo: .loopbackV4(port: 0))
            guard fresh.descriptor == number else { continue }
            reused += 1
            sched_yield()
            var entry = pollfd(fd: fresh.descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&entry, 1, 0) > 0 { shut += 1 }
        }
        done.store(true, ordering: .releasing)
        let raised = raisers.join().reduce(0, +)
        #expect(raised > 0 && reused > 0)
        #expect(shut == 0, "\(shut) of \(reused) sockets that were never watched were shut (\(raised) raises)")
    }

    @Test("a raise that holds a watched socket's slot keeps its unwatch (and so its close) waiting")
    func unwatchWaitsForARaise() throws {
        let stop = try StopSignal()
        let watched = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let number = watched.descriptor
        RaceHold.arm(point: CUDPTOOLS_TEST_POINT_CLAIMED, value: number)
        defer { RaceHold.disarm() }
        var threads = WorkerThreads<Void>()
        try stop.watching(watched) { _ in
            try threads.start { stop.request() }
            try #require(RaceHold.waitUntilHeld(), "the raise claimed the slot")
            try threads.start { RaceHold.release(after: 100_000_000) }
        }
        // Here the unwatch has returned: the raise let go of the slot first.
        #expect(RaceHold.released)
        _ = threads.join()
        try watched.close()
        let fresh = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        var entry = pollfd(fd: fresh.descriptor, events: Int16(POLLIN), revents: 0)
        #expect(poll(&entry, 1, 0) == 0, "descriptor \(number) reused as \(fresh.descriptor), and not shut")
    }

    @Test("a stop signal's deinit waits for a SIGTERM handler that is raising it")
    func deinitWaitsForAHandler() throws {
        var stop: StopSignal? = try StopSignal.catchingInterrupts()
        RaceHold.arm(point: CUDPTOOLS_TEST_POINT_HANDLER, value: SIGTERM)
        defer { RaceHold.disarm() }
        var threads = WorkerThreads<Void>()
        try threads.start { _ = raise(SIGTERM) }
        try #require(RaceHold.waitUntilHeld(), "the handler read the stop signal")
        try threads.start { RaceHold.release(after: 100_000_000) }
        stop = nil
        // Here the deinit has returned: the handler was done with the state first.
        #expect(RaceHold.released && stop == nil)
        _ = threads.join()
    }
}

/// Holds the first call of the stop signal's test hook at one point, with one value, until released: one side
/// of a race, so that a test can check that the other side waits. The hook may run in a signal handler, so it
/// only spins on atomics, for 5 s at most.
enum RaceHold {
    private static let point = Atomic<Int32>(-1)
    private static let value = Atomic<Int32>(0)
    private static let held = Atomic<Bool>(false)
    private static let releasedFlag = Atomic<Bool>(false)

    /// Holds the next call at `point` with `value`.
    static func arm(point: Int32, value: Int32) {
        held.store(false, ordering: .sequentiallyConsistent)
        releasedFlag.store(false, ordering: .sequentiallyConsistent)
        Self.value.store(value, ordering: .sequentiallyConsistent)
        Self.point.store(point, ordering: .sequentiallyConsistent)
        cudptools_stop_set_test_hook { point, value in
            guard value == RaceHold.value.load(ordering: .sequentiallyConsistent),
                RaceHold.point.compareExchange(expected: point, desired: -1, ordering: .sequentiallyConsistent)
                    .exchanged
            else { return }
            RaceHold.held.store(true, ordering: .sequentiallyConsistent)
            let deadline = MonotonicClock.now() + 5_000_000_000
            while !RaceHold.releasedFlag.load(ordering: .sequentiallyConsistent) && MonotonicClock.now() < deadline {
                sched_yield()
            }
        }
    }

    /// Waits (5 s at most) until the hook holds its caller.
    static func waitUntilHeld() -> Bool {
        let deadline = MonotonicClock.now() + 5_000_000_000
        while !held.load(ordering: .sequentiallyConsistent) {
            if MonotonicClock.now() > deadline { return false }
            sched_yield()
        }
        return true
    }

    /// Lets the held caller go after `nanoseconds`: the side that waits for it must not finish first.
    static func release(after nanoseconds: Int) {
        var pause = timespec(tv_sec: 0, tv_nsec: nanoseconds)
        _ = nanosleep(&pause, nil)
        releasedFlag.store(true, ordering: .sequentiallyConsistent)
    }

    /// Whether the held caller was let go.
    static var released: Bool { releasedFlag.load(ordering: .sequentiallyConsistent) }

    /// Takes the hook away and lets any held caller go.
    static func disarm() {
        releasedFlag.store(true, ordering: .sequentiallyConsistent)
        cudptools_stop_set_test_hook(nil)
    }
}
