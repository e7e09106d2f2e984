import CUDPTools
import Synchronization
import UDP

/// How an engine is told to stop: by ``request()`` from any thread, or by SIGINT and SIGTERM once
/// ``catchingInterrupts()`` made the signal.
///
/// An engine waits in `poll(2)` on its sockets *and* on ``descriptor`` (an eventfd on Linux, a pipe
/// elsewhere), which becomes readable for good once a stop is requested. So an idle server sleeps until a
/// datagram or a stop arrives — no timer wakes it to look at a flag — and stops at once. Under load an
/// engine never waits, so it reads ``isRequested``, an atomic, between batches.
///
/// ```swift
/// let stop = try StopSignal()
/// // on another thread, later:
/// stop.request()
/// ```
public final class StopSignal: Sendable {
    /// Readable once a stop is requested; poll it beside the sockets. Never read it: it stays readable.
    public let descriptor: CInt
    private let writeEnd: CInt
    private let requested = Atomic<Bool>(false)
    private let followsSignals: Bool

    /// A stop signal that only ``request()`` raises.
    public convenience init() throws(UDPError) {
        try self.init(followingSignals: false)
    }

    private init(followingSignals: Bool) throws(UDPError) {
        var readEnd: CInt = -1
        var writeEnd: CInt = -1
        guard cudptools_stop_create(&readEnd, &writeEnd) == 0 else {
            throw UDPError(.wait, errno: .current)
        }
        descriptor = readEnd
        self.writeEnd = writeEnd
        followsSignals = followingSignals
        if followingSignals { cudptools_raise_on_stop_signals(writeEnd) }
    }

    /// A stop signal that SIGINT and SIGTERM raise too, for a process that runs one engine (a command-line
    /// server): the handlers record the signal and make ``descriptor`` readable, nothing more. The handlers
    /// are process-wide; the stop signal made last gets them.
    public static func catchingInterrupts() throws(UDPError) -> StopSignal {
        try StopSignal(followingSignals: true)
    }

    deinit {
        // A signal handler that outlives this object must not write to a reused descriptor: the handlers
        // stay installed but are pointed at nothing. (Process-wide signals outlive engines only in tests.)
        if followsSignals { cudptools_raise_on_stop_signals(-1) }
        try? closeDescriptor(descriptor)
        if writeEnd != descriptor { try? closeDescriptor(writeEnd) }
    }

    /// Asks every engine that watches this signal to stop; safe from any thread, any number of times.
    public func request() {
        requested.store(true, ordering: .releasing)
        cudptools_stop_raise(writeEnd)
    }

    /// True once a stop was requested (by ``request()`` or, for ``catchingInterrupts()``, a signal).
    public var isRequested: Bool {
        requested.load(ordering: .acquiring) || (followsSignals && cudptools_stop_signal_number() != 0)
    }
}
