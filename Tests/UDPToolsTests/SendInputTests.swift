import Testing
import UDPTools

#if canImport(Glibc)
import Glibc
#endif

/// What `udp send` sends: the lines of its input, or a whole file.
@Suite struct SendInputTests {
    @Test func inputLinesSplitAtLineBreaks() throws {
        var descriptors: [CInt] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        defer { close(descriptors[0]) }
        let text = Array("one\r\ntwo\n\nthree".utf8)
        #expect(Glibc.write(descriptors[1], text, text.count) == text.count)
        close(descriptors[1])
        var lines = InputLines(descriptor: descriptors[0])
        var read: [String] = []
        while let line = try lines.next() { read.append(String(decoding: line, as: UTF8.self)) }
        #expect(read == ["one", "two", "", "three"])
    }

    @Test func aFileIsOneDatagramOrRefused() throws {
        let path = "/tmp/swift-udp-datagram-file-\(getpid())"
        defer { unlink(path) }
        try write([1, 2, 3], to: path)
        #expect(try DatagramFile.read(path: path) == [1, 2, 3])
        try write([UInt8](repeating: 0, count: DatagramFile.limit + 1), to: path)
        #expect(throws: DatagramFile.ReadError.tooLarge(size: DatagramFile.limit + 1, limit: DatagramFile.limit)) {
            try DatagramFile.read(path: path)
        }
        unlink(path)
        #expect(throws: DatagramFile.ReadError.self) { try DatagramFile.read(path: path) }
    }

    private func write(_ bytes: [UInt8], to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        try #require(Glibc.write(descriptor, bytes, bytes.count) == bytes.count)
    }
}
