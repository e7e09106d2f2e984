import Benchmark
import UDP
import UDPTools

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
        while sent < requests.count { sent += try client.send(requests, startingAt: sent) }
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
