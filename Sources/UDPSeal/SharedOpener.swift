import Synchronization

/// An ``Opener`` that several threads share, so that one replay window per sender guards them all.
///
/// A server with several sockets on one port (`SO_REUSEPORT` workers) must not give each its own `Opener`:
/// the kernel spreads sources across sockets by their address, so an attacker who replays a captured datagram
/// from other source ports would reach every socket's window once. Here the tag is checked outside the lock
/// (the costly part, run in parallel) and only the window and the counters are taken under it.
@available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
public final class SharedOpener: Sendable {
    private let authenticator: Opener
    private let state: Mutex<Opener>

    /// - Parameters:
    ///   - keys: The keys that open; their ids must differ.
    ///   - maximumSenders: The most senders whose replay windows are kept (see ``Opener/maximumSenders``).
    ///   - accepting: The direction taken, as ``Opener/init(keys:maximumSenders:accepting:)`` explains.
    public init(keys: [SealKey], maximumSenders: Int = 4096, accepting: SealedEnvelope.Direction? = nil) {
        let opener = Opener(keys: keys, maximumSenders: maximumSenders, accepting: accepting)
        authenticator = opener
        state = Mutex(opener)
    }

    /// What was opened and refused so far, by every thread.
    public var counters: Opener.Counters { state.withLock { $0.counters } }

    /// Opens `datagram`, or throws the reason it was refused (and counts it), as ``Opener/open(_:)`` does.
    public func open(_ datagram: some Collection<UInt8>) throws(Opener.Rejection) -> Opener.Opened {
        let opened: Opener.Opened
        do throws(Opener.Rejection) {
            opened = try authenticator.authenticate(Array(datagram))
        } catch {
            state.withLock { $0.count(error) }
            throw error
        }
        return try state.withLock { (opener: inout Opener) throws(Opener.Rejection) -> Opener.Opened in
            do throws(Opener.Rejection) {
                try opener.checkReplay(opened)
            } catch {
                opener.count(error)
                throw error
            }
            opener.countOpened()
            return opened
        }
    }
}
