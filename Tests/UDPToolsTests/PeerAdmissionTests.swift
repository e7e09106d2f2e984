import Testing
import UDP
import UDPTools

@Suite struct PeerAdmissionTests {
    let alice = SocketAddress.loopbackV4(port: 1000)
    let second: UInt64 = 1_000_000_000

    /// The instant `nanoseconds` after the clock's origin.
    func at(_ nanoseconds: UInt64) -> MonotonicInstant { MonotonicInstant(nanoseconds: nanoseconds) }

    @Test func tokenBucketPerSource() {
        var admission = PeerAdmission(policy: .init(ratePerSecond: 10, burst: 2, amplificationLimit: nil))
        let t0: UInt64 = 5 * second
        let verdicts = (0..<3).map { _ in
            admission.admit(alice, datagrams: 1, requestBytes: 10, replyBytes: 10, now: at(t0))
        }
        #expect(verdicts == [.admitted, .admitted, .rateLimited])
        // Another source has its own bucket.
        #expect(
            admission.admit(.loopbackV4(port: 2000), datagrams: 1, requestBytes: 1, replyBytes: 1, now: at(t0))
                == .admitted
        )
        // 100 ms later one token has come back, not two.
        #expect(
            admission.admit(alice, datagrams: 1, requestBytes: 10, replyBytes: 10, now: at(t0 + second / 10))
                == .admitted
        )
        #expect(
            admission.admit(alice, datagrams: 1, requestBytes: 10, replyBytes: 10, now: at(t0 + second / 10))
                == .rateLimited
        )
        // A train is admitted or refused whole.
        #expect(
            admission.admit(alice, datagrams: 3, requestBytes: 30, replyBytes: 30, now: at(t0 + second)) == .rateLimited
        )
    }

    @Test func amplificationGuardCountsBytesPerSource() {
        var admission = PeerAdmission(policy: .init(amplificationLimit: 3))
        // 2 bytes in, 7 out (`ack: ` + 2) is 3.5 times: refused.
        #expect(
            admission.admit(alice, datagrams: 1, requestBytes: 2, replyBytes: 7, now: at(0)) == .amplificationLimited
        )
        // The budget is cumulative: 2 + 5 = 7 bytes received allow 21 bytes sent; 10 are.
        #expect(admission.admit(alice, datagrams: 1, requestBytes: 5, replyBytes: 10, now: at(1)) == .admitted)
        // 22 ≤ 24
        #expect(admission.admit(alice, datagrams: 1, requestBytes: 1, replyBytes: 12, now: at(2)) == .admitted)
        #expect(
            admission.admit(alice, datagrams: 1, requestBytes: 1, replyBytes: 10, now: at(3)) == .amplificationLimited
        )
    }

    @Test("state stays within the bound when more sources write than it holds")
    func boundedSources() {
        var admission = PeerAdmission(policy: .init(ratePerSecond: 1, amplificationLimit: 1, maximumPeers: 8))
        for port in 0..<100 {
            _ = admission.admit(
                .loopbackV4(port: UInt16(port)),
                datagrams: 1,
                requestBytes: 1,
                replyBytes: 1,
                now: at(UInt64(port))
            )
            #expect(admission.count <= 8)
        }
        #expect(admission.forgotten >= 92)
    }

    @Test("a source idle past the timeout starts afresh")
    func idleSourcesAreForgotten() {
        var admission = PeerAdmission(
            policy: .init(ratePerSecond: 1, burst: 1, amplificationLimit: nil, idleTimeout: .seconds(2))
        )
        #expect(admission.admit(alice, datagrams: 1, requestBytes: 1, replyBytes: 1, now: at(0)) == .admitted)
        #expect(admission.admit(alice, datagrams: 1, requestBytes: 1, replyBytes: 1, now: at(1)) == .rateLimited)
        #expect(admission.admit(alice, datagrams: 1, requestBytes: 1, replyBytes: 1, now: at(3 * second)) == .admitted)
    }
}
