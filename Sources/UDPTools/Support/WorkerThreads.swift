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
///
/// ```swift
/// var threads = WorkerThreads<Int>()
/// try threads.start { work() }
/// let values = threads.join()
/// ```
///
/// A body that never runs (its thread could not start) is released at once, with whatever it captured: a
/// `SharedUDPSocket` it held closes, so a failed start leaks no descriptor.
public struct WorkerThreads<Value: Sendable> {
    /// Where a thread leaves its value: written by that thread before it ends, read only after
    /// `pthread_join`, which orders the two accesses — hence `@unchecked Sendable`.
    private final class Slot: @unchecked Sendable {
        var value: Value?
    }

    private var threads: [(pthread_t, Slot)] = []
    /// Bytes of stack for each thread; nil takes the system's default.
    private let stackSize: Int?

    /// - Parameter stackSize: Bytes of stack per thread; nil (the default) takes the system's default.
    public init(stackSize: Int? = nil) {
        self.stackSize = stackSize
    }

    /// Threads started and not yet joined.
    public var count: Int { threads.count }

    /// Starts `body` on a new thread.
    ///
    /// - Throws: `UDPError` when the system has no thread to give (a limit on threads or memory); `body` is
    ///   then released without running.
    public mutating func start(_ body: @escaping @Sendable () -> Value) throws(UDPError) {
        let slot = Slot()
        threads.append((try spawnThread(stackSize: stackSize) { slot.value = body() }, slot))
    }

    /// Waits for every thread and returns their values in start order.
    public func join() -> [Value] {
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

private func spawnThread(stackSize: Int?, _ run: @escaping @Sendable () -> Void) throws(UDPError) -> pthread_t {
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    if let stackSize {
        let status = pthread_attr_setstacksize(&attributes, stackSize)
        guard status == 0 else { throw UDPError(.threadStart, errno: Errno(rawValue: status)) }
    }
    var thread = pthread_t()
    let entry = Unmanaged.passRetained(ThreadEntry(run))
    let context = entry.toOpaque()
    let status = pthread_create(
        &thread,
        &attributes,
        { context in
            Unmanaged<ThreadEntry>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        },
        context
    )
    guard status == 0 else {
        entry.release()
        throw UDPError(.threadStart, errno: Errno(rawValue: status))
    }
    return thread
}

extension UDPError.Operation {
    /// Starting a worker thread (`pthread_create(3)`).
    public static let threadStart = UDPError.Operation(rawValue: "cannot start a thread")
}

/// Runs one worker's `body`; if it fails, asks every other worker under `stop` to stop, so that a process ends
/// with its error at once instead of running on with fewer workers until Ctrl-C.
///
/// - Returns: What `body` returned, or its error.
public func stoppingAllOnFailure<T>(
    _ stop: StopSignal,
    _ body: () throws(UDPError) -> T
) -> Result<T, UDPError> {
    let result = Result(catching: body)
    if case .failure = result { stop.request() }
    return result
}
