import Testing
import UDP
import UDPTools

#if canImport(Glibc)
import Glibc
#endif

@Suite struct StopSignalTests {
    @Test("a request wakes a wait on a socket at once, and the wait says no datagram came")
    func requestWakesTheWait() throws {
        let socket = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let readable = try withEngine(
            { stop in
                Result { () throws(UDPError) in try stop.wait(forReadable: socket.descriptor, until: nil) }
            },
            test: {}
        )
        #expect(try readable.get() == false)
    }

    @Test("a datagram wakes the wait; a deadline ends it; the signal stays raised")
    func datagramOrDeadline() throws {
        let stop = try StopSignal()
        let socket = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        #expect(
            try stop.wait(forReadable: socket.descriptor, until: MonotonicInstant.now() + .milliseconds(1)) == false
        )
        let client = try UDPSocket(family: .inet)
        try client.send([1], to: try socket.localAddress)
        #expect(try stop.wait(forReadable: socket.descriptor, until: MonotonicInstant.now() + .seconds(5)))
        #expect(!stop.isRequested)
        stop.request()
        stop.request()
        #expect(stop.isRequested)
        #expect(try stop.sleep(until: MonotonicInstant.now() + .seconds(5)))
    }

    @Test("a failed thread start releases its body: the shared socket it held is closed")
    func failedStartLeaksNoDescriptor() throws {
        var descriptor: CInt = -1
        var inode: ino_t = 0
        do {
            let shared = SharedUDPSocket(try UDPSocket(bindingTo: .loopbackV4(port: 0)))
            descriptor = shared.descriptor
            var status = stat()
            #expect(fstat(descriptor, &status) == 0)
            inode = status.st_ino
            // No system gives a thread a stack of a quarter of the address space.
            var threads = WorkerThreads<Int>(stackSize: 1 << 62)
            #expect(throws: UDPError.self) { try threads.start { shared.descriptor == -1 ? 0 : 1 } }
            #expect(threads.count == 0)
        }
        // Closed: the number is free, or a parallel test's new file has it, which is not our socket.
        var status = stat()
        #expect(fstat(descriptor, &status) != 0 || status.st_ino != inode)
    }
}
