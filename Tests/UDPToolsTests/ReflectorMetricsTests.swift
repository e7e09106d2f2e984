import MetricsTestKit
import Testing
import UDP
import UDPTools

@Suite struct ReflectorMetricsTests {
    @Test("the reflector's counters reach a swift-metrics backend")
    func countersArePublished() throws {
        let backend = TestMetrics()
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        try server.setReceiveTimeout(.seconds(2))
        let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        var reflector = Reflector(
            prefix: Array("0123456789".utf8),
            admission: .init(ratePerSecond: nil, amplificationLimit: 2)
        )
        reflector.metrics = ReflectorMetrics(label: "echo", dimensions: [("port", "test")], factory: backend)
        // 1 byte in, 11 out: refused by the guard; 20 in, 30 out: answered.
        try client.send([1], to: try server.localAddress)
        try client.send([UInt8](repeating: 2, count: 20), to: try server.localAddress)
        var seen = 0
        while seen < 2 { seen += try #require(try reflector.reflectNextBatch(server)) }
        #expect(try backend.expectCounter("echo_received", [("port", "test")]).totalValue == 2)
        #expect(try backend.expectCounter("echo_replied", [("port", "test")]).totalValue == 1)
        #expect(try backend.expectCounter("echo_amplification_limited", [("port", "test")]).totalValue == 1)
    }
}
