import Testing
import UDPDNS

@Suite struct EDNSTests {
    @Test func theOPTRecordCarriesThePayloadSizeFlagsAndOptions() throws {
        let edns = EDNS(
            udpPayloadSize: 1232,
            extendedResponseCode: 1,
            dnssecOK: true,
            options: [EDNS.Option(code: EDNS.Option.cookieCode, data: [1, 2, 3, 4, 5, 6, 7, 8])]
        )
        let record = edns.record
        #expect(record.name == .root && record.type == .opt && record.rawClass == 1232)
        #expect(record.ttl == 0x0100_8000, "extended code 1, version 0, DO")
        #expect(record.data == .unknown(type: .opt, bytes: [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]))
        #expect(try EDNS(record) == edns)
        let message = DNSMessage(flags: 0x8000, additionals: [record])
        let decoded = try DNSMessage(decoding: try message.encoded())
        #expect(try decoded.edns == edns)
        // BADVERS (16): the header's 0 extended by the OPT record's 1.
        #expect(decoded.responseCode(extendedBy: try decoded.edns) == 16)
        #expect(DNSMessage.responseCodeName(16) == "BADVERS")
    }

    @Test func aQueryAsksWithOneOPTRecord() throws {
        let question = DNSQuestion(name: DNSName("a.test")!, type: .a)
        let query = DNSMessage.query(id: 4321, question: question)
        #expect(query.id == 4321 && query.recursionDesired && !query.isResponse && query.opcode == 0)
        #expect(try query.edns?.udpPayloadSize == 1232)
        let bytes = try query.encoded()
        // Header 12, question 12 (`1a4test0` and type, class), OPT 11.
        #expect(bytes.count == 35)
        #expect(Array(bytes.suffix(11)) == [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0])
        let plain = DNSMessage.query(id: 1, question: question, recursionDesired: false, edns: nil)
        #expect(try plain.edns == nil && plain.additionals.isEmpty && !plain.recursionDesired)
    }

    @Test func malformedOPTRecordsMakeTheMessageMalformed() throws {
        let good = EDNS().record
        var twice = DNSMessage()
        twice.additionals = [good, good]
        #expect(throws: DNSError.badRecordData(type: 41, at: 0)) { try twice.edns }
        var inAnswers = DNSMessage()
        inAnswers.answers = [good]
        #expect(throws: DNSError.badRecordData(type: 41, at: 0)) { try inAnswers.edns }
        var notRoot = good
        notRoot.name = DNSName("a.test")!
        #expect(throws: DNSError.badRecordData(type: 41, at: 0)) { try EDNS(notRoot) }
        // An option that claims 9 bytes of 2, and one cut inside its header.
        for bytes: [UInt8] in [[0, 15, 0, 9, 0, 14], [0, 15, 0]] {
            var cut = good
            cut.data = .unknown(type: .opt, bytes: bytes)
            #expect(throws: DNSError.badRecordData(type: 41, at: 0)) { try EDNS(cut) }
        }
    }
}
