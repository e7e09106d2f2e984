import Testing

@testable import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// The one way into the kernel: its policy is checked by feeding it results, no kernel needed.
@Suite struct SyscallsTests {
    @Test func retriesInterruptedCalls() throws {
        var calls = 0
        let result = try retryingInterrupts(.receive) { () -> Int in
            calls += 1
            if calls <= 2 {
                errno = EINTR
                return -1
            }
            return 5
        }
        #expect(result == 5)
        #expect(calls == 3)
    }

    @Test func throwsOtherErrorsAtOnce() {
        var calls = 0
        let error = #expect(throws: UDPError.self) {
            try retryingInterrupts(.receive, address: .loopbackV4(port: 9)) { () -> CInt in
                calls += 1
                errno = EAGAIN
                return -1
            }
        }
        #expect(calls == 1)
        #expect(error?.errno == .wouldBlock)
        #expect(error?.operation == .receive)
        #expect(error?.address == .loopbackV4(port: 9))
    }

    @Test func classifiesWhatItThrows() {
        let error = #expect(throws: UDPError.self) {
            try retryingInterrupts(.send) { () -> Int in
                errno = ECONNREFUSED
                return -1
            }
        }
        #expect(error?.code == .connectionRefused)
    }

    @Test func aDescriptorBeingValidatedMayBeBadOrNotASocket() {
        // Only while checking a descriptor handed in from outside; otherwise these stop the program.
        for code in [EBADF, ENOTSOCK] {
            let error = #expect(throws: UDPError.self) {
                try retryingInterrupts(.localAddress, validating: true) { () -> CInt in
                    errno = code
                    return -1
                }
            }
            #expect(error?.errno == Errno(rawValue: code))
        }
    }

    @Test func servesDescriptorsThatAreNotSockets() throws {
        // A pipe stands for the files and eventfds of the other modules.
        var ends: [CInt] = [-1, -1]
        try #require(pipe(&ends) == 0)
        defer {
            try? closeDescriptor(ends[0])
            try? closeDescriptor(ends[1])
        }
        _ = try retryingInterrupts(.control) { fcntl(ends[0], F_SETFL, O_NONBLOCK) }
        var byte: UInt8 = 0
        let error = #expect(throws: UDPError.self) { try retryingInterrupts(.receive) { read(ends[0], &byte, 1) } }
        #expect(error?.errno == .wouldBlock)
        var written: UInt8 = 7
        #expect(try retryingInterrupts(.send) { write(ends[1], &written, 1) } == 1)
        #expect(try retryingInterrupts(.receive) { read(ends[0], &byte, 1) } == 1)
        #expect(byte == 7)
    }

    @Test func closeDescriptorClosesOnce() throws {
        var ends: [CInt] = [-1, -1]
        try #require(pipe(&ends) == 0)
        defer { try? closeDescriptor(ends[0]) }
        try closeDescriptor(ends[1])
        // The write end is gone, so the read end sees end of file (not a number to test: another test may
        // be given the same descriptor number at once).
        var byte: UInt8 = 0
        #expect(try retryingInterrupts(.receive) { read(ends[0], &byte, 1) } == 0)
    }

    @Test func passesOtherNegativeValuesThrough() throws {
        // Only -1 means failure; anything else is the call's result.
        #expect(try retryingInterrupts(.control) { CInt(-2) } == -2)
        #expect(try retryingInterrupts(.control) { 0 } == 0)
    }

    @Test(arguments: [
        "127.0.0.1:9000", "0.0.0.0:0", "[::1]:9000", "[fe80::1%1]:80", "[::ffff:192.0.2.1]:65535",
    ])
    func socketAddressesSurviveTheKernelEncoding(_ text: String) throws {
        let address = try SocketAddress(parsing: text)
        let decoded = address.withSockAddr { pointer, length in SocketAddress(pointer, length: length) }
        #expect(decoded == address)
    }

    @Test func kernelEncodingUsesNetworkByteOrder() throws {
        let address = try SocketAddress(parsing: "192.0.2.1:9000")
        address.withSockAddr { pointer, length in
            #expect(length == socklen_t(MemoryLayout<sockaddr_in>.size))
            let c = UnsafeRawPointer(pointer).loadUnaligned(as: sockaddr_in.self)
            #expect(c.sin_family == sa_family_t(AF_INET))
            #expect(c.sin_port == UInt16(9000).bigEndian)
            #expect(c.sin_addr.s_addr == UInt32(0xC000_0201).bigEndian)
        }
        let flow = SocketAddress.v6(.init(ip: .loopback, port: 53, flowInfo: 0x12345, scopeID: 3))
        flow.withSockAddr { pointer, length in
            #expect(length == socklen_t(MemoryLayout<sockaddr_in6>.size))
            let c = UnsafeRawPointer(pointer).loadUnaligned(as: sockaddr_in6.self)
            #expect(c.sin6_family == sa_family_t(AF_INET6))
            #expect(c.sin6_port == UInt16(53).bigEndian)
            #expect(c.sin6_flowinfo == UInt32(0x12345).bigEndian)
            #expect(c.sin6_scope_id == 3)
            #expect(SocketAddress(pointer, length: length) == flow)
        }
    }

    @Test func decodingRefusesShortOrForeignAddresses() {
        var unix = sockaddr()
        unix.sa_family = sa_family_t(AF_UNIX)
        #expect(SocketAddress(&unix, length: socklen_t(MemoryLayout<sockaddr>.size)) == nil)
        let v4 = SocketAddress.loopbackV4(port: 1)
        v4.withSockAddr { pointer, _ in
            #expect(SocketAddress(pointer, length: 4) == nil)
        }
        #expect(SocketAddress(nil, length: 0) == nil)
    }

    @Test func decodesCStringBuffers() {
        #expect(String(cStringBuffer: [108, 111, 0, 120]) == "lo")
        #expect(String(cStringBuffer: [0]) == "")
        #expect(String(cStringBuffer: [101, 116, 104]) == "eth")
    }
}
