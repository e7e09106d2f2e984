import Testing
import UDP

@testable import UDPDiscovery

/// Bytes that count how far a parser read into them.
private struct CountingBytes: Collection {
    final class Reads: @unchecked Sendable {  // one test's own, never shared between threads
        var furthest = -1
    }

    let bytes: [UInt8]
    let reads = Reads()

    var startIndex: Int { 0 }
    var endIndex: Int { bytes.count }
    func index(after index: Int) -> Int { index + 1 }
    subscript(position: Int) -> UInt8 {
        reads.furthest = Swift.max(reads.furthest, position)
        return bytes[position]
    }
}

@Suite struct SSDPMessageLimitsTests {
    @Test func anOverlongLineIsRefusedAfterReadingAtMostTheLimit() {
        let start = Array("HTTP/1.1 200 OK\r\nST: ".utf8)
        let datagram = CountingBytes(bytes: start + Array(repeating: 0x61, count: 8_192) + Array("\r\n\r\n".utf8))
        #expect(throws: SSDPError.lineTooLong) { try SSDPMessage(parsing: datagram) }
        #expect(datagram.reads.furthest <= start.count - 4 + SSDPMessage.maximumLineLength)
    }

    @Test func aThousandHeadersAreRefusedAfterReadingAtMostTheLimit() {
        let header = Array("X-Forged: 1\r\n".utf8)
        let datagram = CountingBytes(
            bytes: Array("NOTIFY * HTTP/1.1\r\n".utf8) + Array((0..<1_000).map { _ in header }.joined()) + [13, 10]
        )
        #expect(throws: SSDPError.tooManyHeaders) { try SSDPMessage(parsing: datagram) }
        #expect(datagram.reads.furthest < 19 + (SSDPMessage.maximumHeaders + 1) * header.count)
    }

    @Test func lineEndsOfEveryKindAndABodyThatIsNotText() throws {
        var datagram = Array("HTTP/1.1 200 OK\rST: upnp:rootdevice\nUSN: uuid:a\r\nLOCATION: http://x/\r\n\r\n".utf8)
        datagram += [0xFF, 0xFE, 0x00]  // a body, never read as text
        guard case .response(let advertisement) = try SSDPMessage(parsing: datagram) else {
            Issue.record("not a response")
            return
        }
        #expect(advertisement.target == "upnp:rootdevice" && advertisement.location == "http://x/")
        #expect(throws: SSDPError.notText) {
            try SSDPMessage(parsing: Array("HTTP/1.1 200 OK\r\nST: \u{FF}".utf8) + [0xC0])
        }
    }
}
