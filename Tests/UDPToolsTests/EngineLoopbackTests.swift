import Testing
import UDP
import UDPPatterns
import UDPTools

#if canImport(Glibc)
import Glibc
#endif

/// Each engine against a real peer on loopback, run as a library: no process, no parsing, no output.
@Suite struct EngineLoopbackTests {
    @Test("a ping session against a reflector: every probe answered, statistics from its replies")
    func pingSession() throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let target = try server.localAddress
        let shared = SharedUDPSocket(server)
        var events: [PingSession.Event] = []
        var summary: LatencySummary?
        let served = try withEngine(
            { stop in
                Result { () throws(UDPError) in
                    var reflector = Reflector(prefix: Array("ack: ".utf8))
                    try reflector.run(shared.socket, until: stop)
                    return reflector.counters
                }
            },
            test: {
                let socket = try UDPSocket(family: .inet)
                try socket.connect(to: target)
                let unavailable = PingSession.prepare(socket, timestamps: .kernel)
                var session = PingSession(
                    target: target,
                    count: 5,
                    interval: .milliseconds(1),
                    size: 32,
                    timeout: .seconds(2),
                    timestamps: unavailable == nil ? .kernel : .user
                )
                try MachineDriver(stop: try StopSignal()).run(&session, on: socket) { events.append($0) }
                #expect(session.isFinished)
                summary = session.summary
            }
        )
        let replies = events.compactMap { event -> (UInt64, PingSession.Timestamps)? in
            if case .reply(_, let length, let sequence, .first, let clock) = event, length == 37 {
                return (sequence, clock)
            }
            return nil
        }
        #expect(replies.map(\.0) == [1, 2, 3, 4, 5])
        // The kernel stamps arrivals only once its timestamping switch is on, which the first socket to ask turns
        // on a moment later (a deferred static key): a reply that came before says so and is measured by this
        // process's clock, and never counted among the kernel's samples.
        let byKernel = replies.filter { $0.1 == .kernel }.count
        #expect(byKernel >= 3, "\(events)")
        let statistics = try #require(summary)
        #expect(statistics.counts.sent == 5 && statistics.counts.received == 5 && statistics.counts.lost == 0)
        #expect(statistics.latency.count == byKernel)
        // The kernel stamps the probe after this process's clock read before the send, and the reply before the
        // read after the receive: each kernel round trip is inside its user-space one.
        #expect(statistics.timestamps == "kernel")
        let user = try #require(statistics.userLatency)
        #expect(user.count == 5)
        let kernelMinimum = try #require(statistics.latency.minimum)
        let kernelMaximum = try #require(statistics.latency.maximum)
        let userMinimum = try #require(user.minimum)
        let userMaximum = try #require(user.maximum)
        #expect(kernelMinimum <= userMinimum && kernelMaximum <= userMaximum)
        #expect(kernelMinimum > .zero)
        #expect(statistics.lossPercent == 0)
        #expect(try served.get().replied == 5)
    }

    @Test("a ping session with nobody listening reports each ICMP error, naming its sender, and loses every probe")
    func pingSessionRefused() throws {
        let closed = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let target = try closed.localAddress
        try closed.close()
        let socket = try UDPSocket(family: .inet)
        try socket.connect(to: target)
        PingSession.prepare(socket, timestamps: .kernel)
        var session = PingSession(
            target: target,
            count: 3,
            interval: .milliseconds(1),
            size: 32,
            timeout: .milliseconds(50)
        )
        var icmpErrors: [DeliveryError] = []
        try MachineDriver(stop: try StopSignal()).run(&session, on: socket) {
            switch $0 {
            case .icmpError(let event): icmpErrors.append(event)
            case .pathError(let error): Issue.record("a plain path error with the queue on: \(error)")
            default: break
            }
        }
        #expect(icmpErrors.count == 3, "one per probe: none lost to the kernel's one-shot pending error")
        #expect(icmpErrors.allSatisfy { $0.kind == .portUnreachable && $0.offender == .v4(.loopback) })
        #expect(session.summary.icmpErrors == 3)
        #expect(session.summary.errors == 0)
        #expect(session.summary.counts.received == 0 && session.summary.counts.lost == 3)
    }

    @Test("the listener numbers each peer's datagrams and reports truncation with the real length")
    func listener() throws {
        let socket = SharedUDPSocket(try UDPSocket(bindingTo: .loopbackV4(port: 0)))
        let address = try socket.socket.localAddress
        let seen = try EventLog()
        let table = try withEngine(
            { stop in
                Result { () throws(UDPError) in
                    var listener = Listener(maximumPeers: 8, bufferSize: 4)
                    let driver = MachineDriver(stop: stop, receiveBufferSize: listener.bufferSize)
                    try driver.run(&listener, on: socket.socket) { event in
                        if case .datagram(_, let number, let payload, let length, let truncated) = event {
                            seen.append("#\(number) \(payload.count)/\(length)\(truncated ? " cut" : "")")
                        }
                    }
                    return listener.peers
                }
            },
            test: {
                let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))
                for payload in [[1], [1, 2, 3, 4, 5, 6]] as [[UInt8]] { try client.send(payload, to: address) }
                try seen.waitForCount(2)
            }
        )
        #expect(seen.lines == ["#1 1/1", "#2 4/6 cut"])
        #expect(try table.get().totalDatagrams == 2)
        #expect(try table.get().entries.count == 1)
    }

    @Test("the framed echo answers a retried request from its cache, and the framed client gets the reply")
    func framedEchoAndClient() throws {
        let socket = SharedUDPSocket(try UDPSocket(bindingTo: .loopbackV4(port: 0)))
        let address = try socket.socket.localAddress
        let counters = try withEngine(
            { stop in
                Result { () throws(UDPError) in
                    var server = FramedEchoServer(prefix: Array("ok ".utf8))
                    try FramedEchoServer.prepare(socket.socket)
                    try MachineDriver(stop: stop).run(&server, on: socket.socket) { _ in }
                    return (server.counters.replied, server.cacheCounters.handled)
                }
            },
            test: {
                let client = try UDPSocket(family: .inet)
                try client.connect(to: address)
                var framed = FramedClient(destination: address, policy: RetryPolicy(attempts: 3, timeout: .seconds(2)))
                let driver = MachineDriver(stop: try StopSignal())
                for word in ["a", "b"] {
                    let reply = try framed.exchange(Array(word.utf8), on: client, driver: driver)?.get()
                    #expect(reply == Array("ok \(word)".utf8))
                }
            }
        )
        #expect(try counters.get() == (2, 2))
    }

    @Test("the plain client retries, then says how long it waited in all")
    func plainClientGivesUp() throws {
        let silent = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        var client = DatagramClient(
            destination: try silent.localAddress,
            policy: RetryPolicy(attempts: 2, timeout: .milliseconds(20), backoff: 2)
        )
        let socket = try UDPSocket(family: .inet)
        var sent = 0
        var gaveUp: (Duration, Int)?
        let answered = try client.exchange([1], on: socket, driver: MachineDriver(stop: try StopSignal())) { event in
            switch event {
            case .sent: sent += 1
            case .noReply(let total, let attempts): gaveUp = (total, attempts)
            default: break
            }
        }
        #expect(!answered)
        #expect(sent == 2)
        #expect(gaveUp?.0 == .milliseconds(60) && gaveUp?.1 == 2)
        #expect(try silent.receive(timeout: .seconds(1)) != nil)
    }
}

/// Lines an engine's thread appends and the test reads; ``waitForCount(_:)`` sleeps until enough arrived.
private final class EventLog: @unchecked Sendable {
    // A pthread mutex, which Thread Sanitizer sees (it cannot see Synchronization.Mutex's futex).
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var stored: [String] = []
    private var expected = Int.max
    private let reached: StopSignal

    init() throws {
        reached = try StopSignal()
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    func append(_ line: String) {
        let enough = locked {
            stored.append(line)
            return stored.count >= expected
        }
        if enough { reached.request() }
    }

    var lines: [String] { locked { stored } }

    /// Waits, at most 5 seconds, until `count` lines have arrived.
    func waitForCount(_ count: Int) throws {
        let enough = locked {
            expected = count
            return stored.count >= count
        }
        if !enough { _ = try reached.sleep(until: MonotonicInstant.now() + .seconds(5)) }
    }
}

/// The README's example of an engine run as a library, as written there (on port 0).
@Test("the README's engine example runs, answers, and stops on request")
func readmeEngineExample() throws {
    let socket = SharedUDPSocket(try UDPSocket(bindingTo: SocketAddress(parsing: "127.0.0.1:0")))
    let stop = try StopSignal()
    var threads = WorkerThreads<Reflector.Counters>()
    try threads.start {
        var reflector = Reflector(prefix: Array("ack: ".utf8))
        try? reflector.run(socket.socket, until: stop)  // sleeps while idle, answers in batches under load
        return reflector.counters
    }
    let client = try UDPSocket(family: .inet)
    try client.send(Array("hi".utf8), to: try socket.socket.localAddress)
    #expect(try client.receive(timeout: .seconds(5))?.payload == Array("ack: hi".utf8))
    stop.request()
    #expect(threads.join()[0].replied == 1)
}
