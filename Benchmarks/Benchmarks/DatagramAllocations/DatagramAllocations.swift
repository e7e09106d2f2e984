import Benchmark
import Synchronization
import UDP
import UDPTools

#if canImport(Glibc)
import Glibc
#endif

// Heap allocations per datagram in the steady state of the echo server's engine (Reflector) and of the batch
// I/O it stands on. Each iteration moves 64 datagrams client -> server -> client over loopback; sockets and
// batches are made before the measurement starts, so what is counted is the steady state alone.

/// Datagrams per iteration.
let datagramsPerIteration = 64

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .throughput, .wallClock],
        warmupIterations: 10,
        maxDuration: .seconds(3),
        maxIterations: 2_000
    )

    Benchmark("Reflector echo, 64 single datagrams of 64 bytes") { benchmark in
        try echoRoundTrips(benchmark, train: false, prefix: [])
    }
    Benchmark("Reflector echo with 'ack: ' prefix, 64 single datagrams") { benchmark in
        try echoRoundTrips(benchmark, train: false, prefix: Array("ack: ".utf8))
    }
    Benchmark("Reflector echo, one GSO train of 64 datagrams (GRO on)") { benchmark in
        try echoRoundTrips(benchmark, train: true, prefix: [])
    }
    Benchmark("Reflector echo with 'ack: ' prefix, one GSO train of 64 (GRO on)") { benchmark in
        try echoRoundTrips(benchmark, train: true, prefix: Array("ack: ".utf8))
    }
    // Reading a received batch through its collection view, `for datagram in batch.received`: each element is
    // a small struct over the batch's memory, so the loop allocates nothing either.
    Benchmark("DatagramBatch.received iterated, 64 single datagrams") { benchmark in
        try iterateReceived(benchmark)
    }
    // The load generator of `udp bench`: one worker against an in-process Reflector, for a fixed time. What it
    // allocates is its start (batches, tracker ring, histograms), the same for 0.1 s as for 0.4 s although
    // the longer run moves four times the datagrams (tens of thousands).
    for (seconds, offload) in [(0.1, true), (0.4, true), (0.1, false), (0.4, false)] {
        let name = "udp bench worker, \(seconds) s, \(offload ? "GSO trains" : "one datagram a message"), window 64"
        Benchmark(
            name,
            configuration: .init(
                metrics: [.mallocCountTotal, .wallClock],
                warmupIterations: 1,
                maxDuration: .seconds(10),
                maxIterations: 5
            )
        ) { benchmark in
            try benchRun(benchmark, seconds: seconds, offload: offload)
        }
    }

    // The control: the convenience receive allocates an array per datagram, and the counter must show it.
    Benchmark("Control: receive(maximumSize:) allocates per datagram") { benchmark in
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        try server.setReceiveTimeout(.seconds(2))
        let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let address = try server.localAddress
        let payload = [UInt8](repeating: 0x61, count: 64)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for _ in 0..<datagramsPerIteration {
                try client.send(payload, to: address)
                blackHole(try server.receive(maximumSize: 2_048))
            }
        }
        benchmark.stopMeasurement()
    }
}

/// Runs `benchmark.scaledIterations` round trips of 64 datagrams through a Reflector.
func echoRoundTrips(_ benchmark: Benchmark, train: Bool, prefix: [UInt8]) throws {
    let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
    try server.setReceiveTimeout(.seconds(2))
    if train { try server.setGenericReceiveOffload(true) }
    let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))
    try client.setReceiveTimeout(.seconds(2))
    let serverAddress = try server.localAddress

    var requests = DatagramBatch(capacity: datagramsPerIteration, bufferSize: datagramsPerIteration * 64)
    let payload = [UInt8](repeating: 0x61, count: 64)
    if train {
        requests.append(to: serverAddress, segmentSize: payload.count) { buffer in
            for index in 0..<datagramsPerIteration {
                UnsafeMutableRawBufferPointer(rebasing: buffer[(index * 64)...]).copyBytes(from: payload)
            }
            return datagramsPerIteration * payload.count
        }
    } else {
        for _ in 0..<datagramsPerIteration { payload.withUnsafeBytes { _ = requests.append($0, to: serverAddress) } }
    }
    var replies = DatagramBatch(capacity: datagramsPerIteration, bufferSize: 2_048)
    var reflector = Reflector(prefix: prefix, batchSize: datagramsPerIteration)

    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
        var sent = 0
        while sent < requests.count { sent += try client.send(&requests, startingAt: sent) }
        var reflected = 0
        while reflected < datagramsPerIteration { reflected += try reflector.reflectNextBatch(server) ?? 0 }
        var received = 0
        while received < datagramsPerIteration {
            let slots = try client.receive(into: &replies)
            received += slots
        }
    }
    benchmark.stopMeasurement()
    precondition(reflector.counters.failed == 0, "the reflector failed to answer")
}

/// Runs `benchmark.scaledIterations` batches of 64 datagrams client -> server, each read at the server by
/// iterating `batch.received`: payload, peer, truncation, segments and the full receive info of every slot.
func iterateReceived(_ benchmark: Benchmark) throws {
    let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
    try server.setReceiveTimeout(.seconds(2))
    let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))
    let serverAddress = try server.localAddress
    var requests = DatagramBatch(capacity: datagramsPerIteration, bufferSize: 64)
    let payload = [UInt8](repeating: 0x61, count: 64)
    for _ in 0..<datagramsPerIteration { payload.withUnsafeBytes { _ = requests.append($0, to: serverAddress) } }
    var incoming = DatagramBatch(capacity: datagramsPerIteration, bufferSize: 2_048)

    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
        var sent = 0
        while sent < requests.count { sent += try client.send(&requests, startingAt: sent) }
        var received = 0
        while received < datagramsPerIteration {
            _ = try server.receive(into: &incoming)
            for datagram in incoming.received {
                blackHole(datagram.payload.count)
                blackHole(datagram.peer)
                blackHole(datagram.isTruncated)
                blackHole(datagram.segment(datagram.segmentCount - 1).count)
                blackHole(datagram.info)
                received += 1
            }
        }
    }
    benchmark.stopMeasurement()
}

/// Runs one `udp bench` worker for `seconds` against a Reflector on a thread of its own, and checks that replies
/// came back; only the worker's run is measured.
func benchRun(_ benchmark: Benchmark, seconds: Double, offload: Bool) throws {
    let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
    try server.setReceiveTimeout(.milliseconds(50))
    if offload { try server.setGenericReceiveOffload(true) }
    let address = try server.localAddress
    let echo = EchoThread(descriptor: server.takeDescriptor())
    echo.start()
    defer { echo.stopAndJoin() }
    for _ in benchmark.scaledIterations {
        let start = MonotonicInstant.now()
        let configuration = BenchWorker.Configuration(
            destination: address,
            payloadSize: 64,
            window: 64,
            rate: 0,
            lossTimeout: .milliseconds(200),
            start: start,
            end: start + .seconds(seconds),
            live: false,
            offload: offload
        )
        let board = try BenchBoard(workers: 1, highest: configuration.lossTimeout)
        benchmark.startMeasurement()
        let result = BenchWorker.run(configuration, index: 0, board: board)
        benchmark.stopMeasurement()
        precondition(result.failure == nil && result.counts.received > 1_000, "the bench worker got too few replies")
    }
}

/// A Reflector that answers on a thread of its own until told to stop.
final class EchoThread: Sendable {
    private let descriptor: CInt
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<pthread_t?>(nil)

    init(descriptor: CInt) { self.descriptor = descriptor }

    func start() {
        var created = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(
            &created,
            nil,
            { context in
                let echo = Unmanaged<EchoThread>.fromOpaque(context!).takeRetainedValue()
                echo.serve()
                return nil
            },
            context
        )
        precondition(status == 0, "cannot start the echo thread")
        thread.withLock { $0 = created }
    }

    func stopAndJoin() {
        stopping.store(true, ordering: .relaxed)
        if let running = thread.withLock({ $0 }) { pthread_join(running, nil) }
    }

    private func serve() {
        // The socket closes when this returns; its receive timeout lets the loop see the stop flag.
        guard let socket = try? UDPSocket(adopting: descriptor) else { return }
        var reflector = Reflector(prefix: [], batchSize: 64)
        while !stopping.load(ordering: .relaxed) { _ = try? reflector.reflectNextBatch(socket) }
    }
}
