import Testing
import UDPPatterns

@Suite struct FrameTests {
    @Test(arguments: [
        FrameHeader(sequence: 0),
        FrameHeader(sequence: 0xFFFF_FFFF, requestID: RequestID(0x0123_4567_89AB_CDEF)),
        FrameHeader(sequence: 7, requestID: RequestID(1), isReply: true),
        FrameHeader(sequence: 0x8000_0000, isReply: true),
    ])
    func roundTrips(header: FrameHeader) throws {
        for payload in [[], bytes("hello"), [UInt8](repeating: 0xC1, count: 1500)] {
            let frame = Frame(header: header, payload: payload)
            let encoded = try frame.encoded()
            #expect(encoded.count == header.size + payload.count)
            #expect(try Frame(decoding: encoded) == frame)
            #expect(try Frame(decoding: encoded[...]) == frame)  // an ArraySlice takes the same path
        }
    }

    @Test func encodingIsBigEndianAsDocumented() throws {
        let header = FrameHeader(sequence: 0x0102_0304, requestID: RequestID(0x1122_3344_5566_7788), isReply: true)
        let encoded = try Frame(header: header, payload: [0xAA, 0xBB]).encoded()
        #expect(
            encoded == [
                0xC1, 0x03, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04,
                0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0xAA, 0xBB,
            ]
        )
        let plain = try Frame(header: FrameHeader(sequence: 1), payload: []).encoded()
        #expect(plain == [0xC1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01])
    }

    @Test func encodesIntoACallersBuffer() throws {
        let frame = Frame(header: FrameHeader(sequence: 9, requestID: RequestID(3)), payload: bytes("abc"))
        var buffer = [UInt8](repeating: 0xEE, count: 64)
        let written = try buffer.withUnsafeMutableBytes { try frame.encode(into: $0) }
        #expect(written == 19)
        #expect(Array(buffer[..<written]) == (try frame.encoded()))
        #expect(buffer[written] == 0xEE)  // nothing written past the frame

        var small = [UInt8](repeating: 0, count: 18)
        #expect(throws: FrameError.shortFrame(needed: 19, got: 18)) {
            try small.withUnsafeMutableBytes { try frame.encode(into: $0) }
        }
        #expect(throws: FrameError.shortFrame(needed: 16, got: 10)) {
            try small.withUnsafeMutableBytes {
                try frame.header.encode(payloadLength: 3, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<10]))
            }
        }
    }

    @Test func decodesTheHeaderWithoutCopying() throws {
        let datagram = try Frame(header: FrameHeader(sequence: 5, requestID: RequestID(8)), payload: bytes("xyz"))
            .encoded()
        let (header, payload) = try datagram.withUnsafeBytes { buffer in
            let header = try FrameHeader(decoding: buffer)
            return (header, Array(buffer[header.size...]))
        }
        #expect(header == FrameHeader(sequence: 5, requestID: RequestID(8)))
        #expect(payload == bytes("xyz"))
    }

    @Test func refusesPayloadsTooLongForTheLengthField() {
        let frame = Frame(header: FrameHeader(), payload: [UInt8](repeating: 0, count: 65_536))
        #expect(throws: FrameError.payloadTooLong(65_536)) { try frame.encoded() }
    }

    @Test(
        arguments: [
            ([], FrameError.shortFrame(needed: 8, got: 0)),
            ([0xC1], .shortFrame(needed: 8, got: 1)),
            ([0xC1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], .shortFrame(needed: 8, got: 7)),
            ([0xC1, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], .shortFrame(needed: 16, got: 9)),
            (bytes("hello"), .badMagic(0x68)),
            ([0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], .badMagic(0x00)),
            ([0xC2, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], .badVersion(2)),
            ([0xC0], .badVersion(0)),
            ([0xC1, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], .unknownFlags(0x04)),
            ([0xC1, 0x83, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], .unknownFlags(0x83)),
            ([0xC1, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0xAA], .badLength(declared: 2, actual: 1)),
            ([0xC1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xAA], .badLength(declared: 0, actual: 1)),
            ([0xC1, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00], .badLength(declared: 65_535, actual: 0)),
        ] as [([UInt8], FrameError)]
    )
    func malformedInputGivesItsTypedError(input: [UInt8], expected: FrameError) {
        #expect(throws: expected) { try Frame(decoding: input) }
    }

    @Test func errorsReadAsSentences() {
        #expect(FrameError.badMagic(0x68).description == "not a frame: first byte 0x68")
        #expect(
            FrameError.badLength(declared: 2, actual: 1).description == "frame declares 2 payload bytes but carries 1"
        )
        #expect(FrameError.shortFrame(needed: 16, got: 9).description == "short frame: needed 16 bytes, got 9")
        #expect(RequestID(0xBEEF).description == "000000000000beef")
    }

    /// Thousands of random byte strings, some starting like a frame, decode to a frame or a typed error:
    /// never a crash or an out-of-bounds read.
    @Test func randomBytesNeverCrashTheDecoder() throws {
        var generator = SeededGenerator(seed: 1982)
        var decoded = 0
        for round in 0..<20_000 {
            let count = Int.random(in: 0...40, using: &generator)
            var input = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Bias half the inputs towards the interesting cases: right magic, plausible flags and length.
            if round % 2 == 0 && count >= 2 {
                input[0] = 0xC1
                input[1] &= 0x03
                if count >= 4 && round % 4 == 0 {
                    let length = count - (input[1] & 1 == 1 ? 16 : 8)
                    if length >= 0 {
                        input[2] = 0
                        input[3] = UInt8(length)
                    }
                }
            }
            do throws(FrameError) {
                let frame = try Frame(decoding: input)
                #expect(try frame.encoded() == input)  // what decodes re-encodes to the same bytes
                decoded += 1
            } catch {
                _ = error.description
            }
        }
        #expect(decoded > 100)
    }
}
