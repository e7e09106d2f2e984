import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs blocking loops on threads of their own (POSIX threads, one per worker), and joins them.
///
/// Servers and load generators block in system calls for their whole life, so they must not run on Swift
/// concurrency's cooperative pool; and a dedicated thread per socket is what SO_REUSEPORT sharding wants.
struct WorkerThreads<Value: Sendable> {
    /// Where a thread leaves its value: written by that thread before it ends, read only after
    /// `pthread_join`, which orders the two accesses — hence `@unchecked Sendable`.
    private final class Slot: @unchecked Sendable {
        var value: Value?
    }

    private var threads: [(pthread_t, Slot)] = []

    /// Starts `body` on a new thread.
    ///
    /// - Throws: `RuntimeFailure` when the system has no thread to give (a limit on threads or memory).
    mutating func start(_ body: @escaping @Sendable () -> Value) throws {
        let slot = Slot()
        threads.append((try spawnThread { slot.value = body() }, slot))
    }

    /// Waits for every thread and returns their values in start order.
    func join() -> [Value] {
        threads.map { thread, slot in
            pthread_join(thread, nil)
            return slot.value!
        }
    }
}

/// The closure a new thread runs, passed through `pthread_create`'s context pointer.
private final class ThreadEntry {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

private func spawnThread(_ run: @escaping @Sendable () -> Void) throws -> pthread_t {
    var thread = pthread_t()
    let entry = Unmanaged.passRetained(ThreadEntry(run))
    let context = entry.toOpaque()
    let status = pthread_create(
        &thread,
        nil,
        { context in
            Unmanaged<ThreadEntry>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        },
        context
    )
    guard status == 0 else {
        entry.release()
        throw RuntimeFailure("cannot start a thread: \(Errno(rawValue: status))")
    }
    return thread
}
