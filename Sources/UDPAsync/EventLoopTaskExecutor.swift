import NIOCore

/// A task executor that runs jobs on one NIO event loop's thread: with `withTaskExecutorPreference`, a receive
/// loop runs on the thread that reads its socket.
///
/// ```swift
/// try await withTaskExecutorPreference(socket.eventLoopExecutor) {
///     try await socket.executeThenClose { inbound, outbound in
///         for try await batch in inbound.batches {
///             try await outbound.send(contentsOf: batch.map { OutboundDatagram(replyingTo: $0) })
///         }
///     }
/// }
/// ```
///
/// Without it the loop runs on Swift's concurrency pool, and every read batch crosses threads twice (the event
/// loop wakes a pool thread; the pool thread wakes the event loop to write). With it, each batch is handed over
/// and answered on one thread: in the echo benchmark (`example-async-echo`, GRO trains) the median round trip fell
/// from 25.5 to 13.6 µs and the server CPU per reply from 0.93 to 0.83 µs.
///
/// The price is NIO's rule: code running here must never block, because while it runs the event loop serves no
/// other channel. Awaiting is fine (the job gives the thread back); a blocking call, a lock held for long or a
/// heavy computation is not. Actor-isolated code still runs on its actor. The event loop must outlive the tasks
/// that prefer it; `MultiThreadedEventLoopGroup.singleton` always does.
public final class EventLoopTaskExecutor: TaskExecutor {
    /// The loop the jobs run on.
    public let eventLoop: any EventLoop

    /// An executor that runs its jobs on `eventLoop`'s thread.
    ///
    /// - Parameter eventLoop: The loop to run on; it must outlive every task that prefers this executor.
    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Schedules `job` on the event loop; it runs after what the loop already has queued, never inside this
    /// call.
    ///
    /// - Parameter job: The job Swift's runtime hands over; it runs with this executor as its task executor.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // Always through the loop's task queue, even from the loop itself: running a job inside `enqueue` could
        // re-enter the code that enqueued it.
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}

extension AsyncUDPSocket {
    /// An executor for the socket's event loop thread; see ``EventLoopTaskExecutor``.
    public var eventLoopExecutor: EventLoopTaskExecutor { EventLoopTaskExecutor(eventLoop) }
}
