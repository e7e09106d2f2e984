import Logging
import NIOCore
import UDP
import UDPAsync

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A wait that took longer than the test allows.
struct TimedOut: Error, CustomStringConvertible {
    var limit: Duration
    var description: String { "timed out after \(limit)" }
}

// Why the timing margins of these tests are seconds wide: `swift test` runs every suite in one process, and the
// synchronous tests of the other targets block the cooperative thread pool (two threads on a two-core machine)
// while they wait on sockets and child processes. An async test can then be held for seconds between two of its
// steps, so a per-attempt timeout or an elapsed-time bound here must survive such a pause; measured: async tests
// that take 10 ms alone finished 13 s into a full run.

/// Runs `operation`, failing with ``TimedOut`` if it takes longer than `limit`: the operation races a sleep in a
/// task group, and the loser is cancelled. Every wait in these tests goes through here, so a lost datagram fails
/// a test instead of hanging the suite.
func withTimeout<T: Sendable>(
    _ limit: Duration = .seconds(30),
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut(limit: limit)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// `127.0.0.1:0` or `[::1]:0`.
func loopback(_ family: AddressFamily) -> UDP.SocketAddress {
    family == .inet6 ? .loopbackV6(port: 0) : .loopbackV4(port: 0)
}

/// A client socket: one datagram per read and small buffers, so a thousand of them stay cheap.
let clientConfiguration = AsyncUDPSocket.Configuration(vectorReadMessageCount: 0, maxMessagesPerRead: 1)

/// Quiet unless `UDP_TEST_LOG` is set in the environment.
let testLogger: Logger = {
    var logger = Logger(label: "UDPAsyncTests")
    logger.logLevel = getenv("UDP_TEST_LOG") == nil ? .critical : .debug
    return logger
}()
