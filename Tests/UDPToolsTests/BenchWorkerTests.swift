import Testing
import UDP
import UDPSeal
import UDPTools

@Suite struct BenchWorkerTests {
    @Test(
        "a bench worker against a reflector: received + lost = sent, replies timed, paced when asked",
        arguments: [(rate: 0.0, offload: true), (2_000.0, false)]
    )
    func loadsAReflector(rate: Double, offload: Bool) throws {
        let server = SharedUDPSocket(try UDPSocket(bindingTo: .loopbackV4(port: 0)))
        let target = try server.socket.localAddress
        var result: BenchWorker.Result?
        _ = try withEngine(
            { stop in
                var reflector = Reflector()
                try? reflector.run(server.socket, until: stop)
                return reflector.counters.replied
            },
            test: {
                let start = MonotonicInstant.now()
                let configuration = BenchWorker.Configuration(
                    destination: target,
                    payloadSize: 64,
                    window: 16,
                    rate: rate,
                    lossTimeout: .seconds(1),
                    start: start,
                    end: start + .milliseconds(300),
                    live: false,
                    offload: offload
                )
                result = BenchWorker.run(
                    configuration,
                    index: 0,
                    board: try BenchBoard(workers: 1, highest: .seconds(1))
                )
            }
        )
        let outcome = try #require(result)
        #expect(outcome.failure == nil)
        #expect(outcome.counts.received + outcome.counts.lost == outcome.counts.sent)
        #expect(outcome.counts.received > 100)
        #expect(outcome.latency.count == outcome.counts.received)
        if rate > 0 {
            // 2,000 a second for 0.3 s: about 600, one more for the first, a little slack for the clock.
            #expect(outcome.counts.sent <= 650)
        }
    }

    @Test("a shared opener used from four threads opens each datagram once and refuses every replay")
    func sharedOpenerAcrossThreads() throws {
        let key = SealKey.generate(id: 1)
        var sealer = Sealer(key: key)
        let datagrams = (0..<400).map { sealer.seal([UInt8(truncatingIfNeeded: $0)]) }
        let opener = SharedOpener(keys: [key], accepting: .request)
        var threads = WorkerThreads<Int>()
        for _ in 0..<4 {
            // Every thread tries every datagram, as four workers would that each got a replayed copy.
            try threads.start {
                datagrams.reduce(0) { opened, datagram in (try? opener.open(datagram)) == nil ? opened : opened + 1 }
            }
        }
        let opened = threads.join().reduce(0, +)
        #expect(opened == 400)
        #expect(opener.counters.opened == 400)
        #expect(opener.counters.replayed == 1_200)
    }
}
