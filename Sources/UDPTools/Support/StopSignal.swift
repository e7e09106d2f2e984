import CUDPTools
import Synchronization
import UDP

/// How an engine is told to stop: by ``request()`` from any thread, or by SIGINT and SIGTERM once
/// ``catchingInterrupts()`` made the signal.
///
/// An engine either waits in `poll(2)` on its sockets *and* on ``descriptor`` (an eventfd on Linux, a pipe
/// elsewhere), which becomes readable for good once a stop is requested, or blocks in a receive on a socket
/// it has put under the signal's watch (``watching(_:_:)``), which the stop shuts for reading so the receive
/// returns at once. Either way an idle server sleeps until a datagram or a stop arrives — no timer wakes it to
/// look at a flag — and stops at once. Under load an engine never waits, so it reads ``isRequested``, an
/// atomic, between batches.
///
/// ```swift
/// let stop = try StopSignal()
/// // on another thread, later:
/// stop.request()
/// ```
public final class StopSignal: @unchecked Sendable {  // the C state is written atomically, and freed in deinit
    private let state: OpaquePointer
    private let requested = Atomic<Bool>(false)
    private let followsSignals: Bool

    /// Readable once a stop is requested; poll it beside the sockets. Never read it (it stays readable), and
    /// never close it: the stop signal closes it when it goes.
    public var descriptor: CInt { cudptools_stop_descriptor(state) }

    /// A stop signal that only ``request()`` raises.
    public convenience init() throws(UDPError) {
        try self.init(followingSignals: false)
    }

    private init(followingSignals: Bool) throws(UDPError) {
        var made: OpaquePointer?
        _ = try retryingInterrupts(.stopSignal) { () -> CInt in
            made = cudptools_stop_create()
            return made == nil ? -1 : 0
        }
        state = made!
        followsSignals = followingSignals
        if followingSignals { cudptools_stop_on_signals(state) }
    }

    /// A stop signal that SIGINT and SIGTERM raise too, for a process that runs one engine (a command-line
    /// server): the handlers record the signal and raise this stop signal, nothing more. The handlers are
    /// process-wide; the stop signal made last gets them.
    public static func catchingInterrupts() throws(UDPError) -> StopSignal {
        try StopSignal(followingSignals: true)
    }

    deinit {
        // A signal handler that outlives this object must not raise freed state: take the handlers away (unless
        // a later stop signal has them) and wait out any handler that already read this one's state.
        if followsSignals { cudptools_stop_forget_signals(state) }
        cudptools_stop_destroy(state)
    }

    /// Asks every engine that watches this signal to stop; safe from any thread, any number of times.
    public func request() {
        requested.store(true, ordering: .releasing)
        cudptools_stop_raise(state)
    }

    /// True once a stop was requested (by ``request()`` or, for ``catchingInterrupts()``, a signal).
    public var isRequested: Bool {
        requested.load(ordering: .acquiring) || (followsSignals && cudptools_stop_signal_number() != 0)
    }

    /// Runs `body` with `socket` under watch: a stop shuts it for reading (`shutdown(SHUT_RD)`), so a receive
    /// blocked on it returns at once — with nothing, or with zero-length datagrams from no address, which
    /// the caller drops once ``isRequested`` says why. Such a socket reads nothing more.
    ///
    /// - Parameters:
    ///   - socket: The socket a blocking receive waits on.
    ///   - body: Called with true when the socket is watched, false when it could not be (too many
    ///     watched at once): then a blocking receive would not be woken, so wait in `poll(2)` instead.
    public func watching<R, E: Error>(
        _ socket: borrowing UDPSocket,
        _ body: (Bool) throws(E) -> R
    ) throws(E) -> R {
        let slot = cudptools_stop_watch(state, socket.descriptor)
        defer { cudptools_stop_unwatch(state, slot) }
        return try body(slot >= 0)
    }
}

extension UDPError.Operation {
    /// Making a stop signal's eventfd (or pipe).
    static let stopSignal = UDPError.Operation(rawValue: "eventfd")
}
