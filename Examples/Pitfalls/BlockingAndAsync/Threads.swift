import Dispatch
import Synchronization
import UDP

/// One value handed from one thread to another, waited for with a deadline.
final class Mailbox<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    private let delivered = DispatchSemaphore(value: 0)

    func put(_ newValue: Value) {
        value.withLock { $0 = newValue }
        delivered.signal()
    }

    /// The value, or nil when none is put within `timeout`.
    func take(timeout: Duration) -> Value? {
        guard delivered.wait(timeout: .now() + .milliseconds(Int(timeout / .milliseconds(1)))) == .success else {
            return nil
        }
        return value.withLock { $0 }
    }
}

/// A loop on a thread of its own, stopped by ``stop()``, which returns once the loop has ended. Each loop waits
/// in a receive with a short timeout and checks whether to stop between two.
final class BackgroundLoop: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let ended = DispatchSemaphore(value: 0)

    /// Starts `body` on a Dispatch thread (not one of Swift concurrency's pool, which must never block); `body`
    /// runs while its argument, `isStopping`, says false.
    init(_ label: String, _ body: @escaping @Sendable (_ isStopping: () -> Bool) -> Void) {
        DispatchQueue(label: label).async { [self] in
            body { stopping.load(ordering: .acquiring) }
            ended.signal()
        }
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        ended.wait()
    }
}

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// The server both parts ask: answers "request N" with "reply to request N".
func startReplyServer(on server: SharedUDPSocket) -> BackgroundLoop {
    BackgroundLoop("server") { isStopping in
        while !isStopping() {
            do {
                guard let request = try server.socket.receive(maximumSize: 2048, timeout: .milliseconds(50)) else {
                    continue
                }
                try server.socket.send(Array("reply to ".utf8) + request.payload, to: request.sender)
            } catch {
                print("  server: \(error)")
                return
            }
        }
    }
}
