import Testing
import UDP
import UDPTools

@Suite struct ReflectorTests {
    @Test(arguments: [[UInt8](), Array("ack: ".utf8)])
    func answersEveryDatagramAndCountsIt(prefix: [UInt8]) throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        try server.setReceiveTimeout(.seconds(2))
        try server.setReceiveDropCount(true)
        let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let address = try server.localAddress
        for index in 0..<10 { try client.send([UInt8(index)], to: address) }
        var reflector = Reflector(prefix: prefix, batchSize: 4)
        var reflected = 0
        while reflected < 10 { reflected += try #require(try reflector.reflectNextBatch(server)) }
        for index in 0..<10 {
            #expect(try client.receive(timeout: .seconds(2))?.payload == prefix + [UInt8(index)])
        }
        #expect(reflector.counters.received == 10)
        #expect(reflector.counters.replied == 10)
        #expect(reflector.counters.failed == 0)
        #expect(reflector.counters.kernelDrops == 0)
    }

    @Test("an idle wait is nil, not an error")
    func idleIsNil() throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        try server.setReceiveTimeout(.milliseconds(50))
        var reflector = Reflector()
        #expect(try reflector.reflectNextBatch(server) == nil)
    }

    @Test("with the error queue on, replies to peers that have gone are counted by kind")
    func icmpErrorsAreCounted() throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        try server.setReceiveTimeout(.seconds(2))
        try server.setReceiveErrors(true)
        let address = try server.localAddress
        for _ in 0..<3 {
            let gone = try UDPSocket(bindingTo: .loopbackV4(port: 0))
            try gone.send(Array("bye".utf8), to: address)
            try gone.close()
        }
        var reflector = Reflector()
        var received = 0
        while received < 3 { received += try #require(try reflector.reflectNextBatch(server)) }
        // Each reply drew a port unreachable; the blocking receive is woken by the first and counts them all.
        while reflector.counters.icmpErrors.total < 3 {
            #expect(try reflector.reflectNextBatch(server) == nil, "only errors are coming")
        }
        #expect(reflector.counters.icmpErrors.portUnreachable == 3)
        #expect(reflector.counters.icmpErrors.description == "3 (port unreachable 3)")
        #expect(reflector.counters.replied == 3)
    }

    @Test("the kernel's drop counter reaches the counters")
    func kernelDrops() throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        try server.setReceiveTimeout(.seconds(2))
        try server.setReceiveDropCount(true)
        try server.setReceiveBufferSize(1)  // the kernel's minimum: a few datagrams
        let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let address = try server.localAddress
        for _ in 0..<500 { try client.send([UInt8](repeating: 7, count: 200), to: address) }
        var reflector = Reflector()
        _ = try reflector.reflectNextBatch(server)
        // Each datagram carries the count as it stood when it was queued: the ones queued before the queue
        // filled say nothing, so send one more once there is room again.
        try client.send([1], to: address)
        try server.setReceiveTimeout(.milliseconds(200))
        while try reflector.reflectNextBatch(server) != nil {}
        #expect(reflector.counters.kernelDrops > 0)
    }
}
