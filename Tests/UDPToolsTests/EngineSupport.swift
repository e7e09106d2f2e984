import UDP
import UDPTools

/// Runs `body` on a worker thread with a stop signal, and stops and joins it when `test` returns: an engine
/// under test serves while the test talks to it, and never outlives the test.
func withEngine<Value: Sendable>(
    _ body: @escaping @Sendable (StopSignal) -> Value,
    test: () throws -> Void
) throws -> Value {
    let stop = try StopSignal()
    var threads = WorkerThreads<Value>()
    try threads.start { body(stop) }
    defer { stop.request() }
    do {
        try test()
    } catch {
        stop.request()
        _ = threads.join()
        throw error
    }
    stop.request()
    return threads.join()[0]
}

/// Voluntary context switches of this thread so far (`/proc/thread-self/status`): how often it slept.
func voluntaryContextSwitches() throws -> Int {
    let status = String(decoding: try FileIO.readAll(path: "/proc/thread-self/status"), as: UTF8.self)
    let line = status.split(separator: "\n").first { $0.hasPrefix("voluntary_ctxt_switches:") }
    return Int(line?.split(separator: "\t").last.map(String.init) ?? "") ?? -1
}
