import Testing
import UDP
import UDPDNS

@Suite struct DNSMessageLenientTests {
    let host = DNSName("box.local")!

    func address(_ last: UInt8) -> DNSRecord {
        DNSRecord(name: host, ttl: 120, data: .a(IPv4Address(198, 18, 3, last)))
    }

    /// A record of `type` whose data is `bytes`, whatever the type needs.
    func raw(_ type: DNSRecordType, _ bytes: [UInt8]) -> DNSRecord {
        DNSRecord(name: host, ttl: 120, data: .unknown(type: type, bytes: bytes))
    }

    func response(_ answers: [DNSRecord], additionals: [DNSRecord] = []) throws -> [UInt8] {
        var message = DNSMessage(answers: answers, additionals: additionals)
        message.isResponse = true
        return try message.encoded()
    }

    @Test func aRecordWithBadDataIsSkippedAndTheRestKept() throws {
        // An A record of 5 bytes, a PTR whose name runs past its data, and a PTR whose pointer leads past the
        // end of the packet, each between good records.
        let bytes = try response(
            [address(1), raw(.a, [1, 2, 3, 4, 5]), address(2), raw(.ptr, [0x3F, 0x61]), address(3)],
            additionals: [raw(.ptr, [0xC0, 0xFF]), address(4)]
        )
        #expect(throws: DNSError.self) { try DNSMessage(decoding: bytes) }
        let decoded = try DNSMessage.decodingLeniently(bytes)
        #expect(decoded.skippedRecords == 3)
        #expect(decoded.message.answers == [address(1), address(2), address(3)])
        #expect(decoded.message.additionals == [address(4)])
        #expect(decoded.message.isResponse)
    }

    @Test func aPointerToItselfInRecordDataIsSkipped() throws {
        var bytes = try response([address(1), raw(.ptr, [0, 0]), address(2)])
        // Aim the PTR's two bytes of data at themselves: the decoder must refuse the loop, not follow it.
        let data = bytes.count - 16 - 2  // the last record is 16 bytes: pointer, fixed fields, address
        bytes[data] = 0xC0 | UInt8(data >> 8)
        bytes[data + 1] = UInt8(data & 0xFF)
        let decoded = try DNSMessage.decodingLeniently(bytes)
        #expect(decoded.skippedRecords == 1)
        #expect(decoded.message.answers == [address(1), address(2)])
    }

    @Test func aRecordCutByTheEndOfThePacketEndsDecodingThere() throws {
        let bytes = try response([address(1), address(2)], additionals: [address(3)])
        let cut = Array(bytes.dropLast(2))  // inside the last record's data
        let decoded = try DNSMessage.decodingLeniently(cut)
        #expect(decoded.skippedRecords == 1)
        #expect(decoded.message.answers == [address(1), address(2)])
        #expect(decoded.message.additionals.isEmpty)
    }

    @Test func anUnreadableOwnerNameLosesItsRecordAndAllAfter() throws {
        var bytes = try response([address(1)])
        // A second answer whose owner name is a pointer to itself, then a third claimed that is never reached.
        let start = bytes.count
        bytes += [0xC0 | UInt8(start >> 8), UInt8(start & 0xFF), 0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 198, 18, 3, 9]
        bytes[7] = 3  // ANCOUNT
        bytes += [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 198, 18, 3, 10]
        let decoded = try DNSMessage.decodingLeniently(bytes)
        #expect(decoded.message.answers == [address(1)])
        #expect(decoded.skippedRecords == 1, "the rest of the packet counts once, not as the records it claimed")
    }

    @Test func anUnreadableHeaderOrQuestionIsAnError() throws {
        #expect(throws: DNSError.self) { try DNSMessage.decodingLeniently([0, 0, 0x84, 0]) }
        // One question claimed, its name a pointer to itself.
        let loop: [UInt8] = [0, 0, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]
        #expect(throws: DNSError.compressionLoop(at: 12)) { try DNSMessage.decodingLeniently(loop) }
        // Counts that the packet cannot hold are refused before anything is reserved.
        let claims: [UInt8] = [0, 0, 0x84, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0]
        let decoded = try DNSMessage.decodingLeniently(claims)
        #expect(decoded.message.answers.isEmpty && decoded.skippedRecords == 1, "a claim of 65535 is one bad packet")
    }
}
