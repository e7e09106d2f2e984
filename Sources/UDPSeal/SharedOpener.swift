#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An ``Opener`` that several threads share, so that one replay window per sender guards them all.
///
/// A server with several sockets on one port (`SO_REUSEPORT` workers) must not give each its own `Opener`:
/// the kernel spreads sources across sockets by their address, so an attacker who replays a captured datagram
/// from other source ports would reach every socket's window once. Here the tag is checked outside the lock
/// (the costly part, run in parallel) and only the window and the counters are taken under it.
///
/// The lock is a `pthread_mutex_t` rather than `Synchronization.Mutex`: Thread Sanitizer sees through pthread
/// locks, and on Linux it reports the futex-based `Mutex` as a race (Scripts/tsan.sh).
public final class SharedOpener: @unchecked Sendable {
    private let authenticator: Opener
    /// Guarded by `mutex`: every access goes through ``locked(_:)``.
    private var opener: Opener
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// - Parameters:
    ///   - keys: The keys that open; their ids must differ.
    ///   - maximumSenders: The most senders whose replay windows are kept (see ``Opener/maximumSenders``).
    ///   - accepting: The direction taken, as ``Opener/init(keys:maximumSenders:accepting:)`` explains.
    public init(keys: [SealKey], maximumSenders: Int = 4096, accepting: SealedEnvelope.Direction? = nil) {
        opener = Opener(keys: keys, maximumSenders: maximumSenders, accepting: accepting)
        authenticator = opener
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// What was opened and refused so far, by every thread.
    public var counters: Opener.Counters { locked { $0.counters } }

    /// Opens `datagram`, or throws the reason it was refused (and counts it), as ``Opener/open(_:)`` does.
    public func open(_ datagram: some Collection<UInt8>) throws(Opener.Rejection) -> Opener.Opened {
        let opened: Opener.Opened
        do throws(Opener.Rejection) {
            opened = try authenticator.authenticate(Array(datagram))
        } catch {
            locked { $0.count(error) }
            throw error
        }
        return try locked { (opener: inout Opener) throws(Opener.Rejection) in try opener.admit(opened) }
    }

    private func locked<Result, Failure: Error>(
        _ body: (inout Opener) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&opener)
    }
}
