import Foundation
import Testing
import UDP
import UDPDNS

@Suite struct DNSMessageTests {
    let service = DNSName("_http._tcp.local")!
    let instance = DNSName("Web Server._http._tcp.local")!
    let host = DNSName("box.local")!

    /// An mDNS response that uses every record type the codec decodes.
    var response: DNSMessage {
        DNSMessage(
            id: 0,
            flags: 0x8400,
            questions: [DNSQuestion(name: service, type: .ptr, rawClass: 0x8001)],
            answers: [DNSRecord(name: service, ttl: 4500, data: .ptr(instance))],
            additionals: [
                DNSRecord(
                    name: instance,
                    rawClass: 0x8001,
                    ttl: 120,
                    data: .srv(priority: 0, weight: 0, port: 8080, target: host)
                ),
                DNSRecord(
                    name: instance,
                    rawClass: 0x8001,
                    ttl: 4500,
                    data: .txt([Array("path=/".utf8), Array("v=1".utf8)])
                ),
                DNSRecord(name: host, rawClass: 0x8001, ttl: 120, data: .a(IPv4Address(198, 18, 3, 2))),
                DNSRecord(name: host, rawClass: 0x8001, ttl: 120, data: .aaaa(IPv6Address("fd75:6470:3::2")!)),
                DNSRecord(
                    name: host,
                    rawClass: 0x8001,
                    ttl: 120,
                    data: .nsec(next: host, types: [.a, .aaaa, .srv, DNSRecordType(rawValue: 300)])
                ),
                DNSRecord(name: host, ttl: 60, data: .unknown(type: DNSRecordType(rawValue: 99), bytes: [1, 2, 3])),
            ]
        )
    }

    @Test func everyRecordTypeRoundTrips() throws {
        let bytes = try response.encoded()
        let decoded = try DNSMessage(decoding: bytes)
        #expect(decoded == response)
        #expect(decoded.isResponse && decoded.isAuthoritative && !decoded.isTruncated)
        #expect(decoded.additionals.map(\.type) == [.srv, .txt, .a, .aaaa, .nsec, DNSRecordType(rawValue: 99)])
    }

    @Test func namesAreCompressed() throws {
        let bytes = try response.encoded()
        // Every name that repeats is written once: `_http` (in the service and in the instance), `box` (the host, in
        // five records), `Web Server`.
        for label in ["_http", "box", "Web Server"] {
            let needle = [UInt8(label.utf8.count)] + Array(label.utf8)
            let occurrences = bytes.indices.filter { bytes[$0...].starts(with: needle) }.count
            // SRV targets and NSEC names are written whole, as RFC 2782 and RFC 4034 ask: `box.local` first in the
            // SRV record (the owners after it point there), and once more in the NSEC record.
            #expect(occurrences == (label == "box" ? 2 : 1), "\(label) written \(occurrences) times")
        }
        // The answer's owner name is the question's: a pointer to offset 12, right after the header.
        #expect(bytes.indices.contains { bytes[$0] == 0xC0 && bytes[$0 + 1] == 12 })
    }

    /// A unicast reply with the types a stub resolver asks for beyond DNS-SD's.
    var unicastReply: DNSMessage {
        let zone = DNSName("example.test")!
        return DNSMessage(
            id: 0xBEEF,
            flags: 0x8580,
            questions: [DNSQuestion(name: zone, type: .mx)],
            answers: [
                DNSRecord(name: zone, ttl: 300, data: .mx(preference: 10, exchange: DNSName("mail.example.test")!)),
                DNSRecord(name: DNSName("www.example.test")!, ttl: 60, data: .cname(zone)),
            ],
            authorities: [
                DNSRecord(name: zone, ttl: 300, data: .ns(DNSName("ns.example.test")!)),
                DNSRecord(name: zone, ttl: 300, data: .soa(.exampleTest)),
            ],
            additionals: [EDNS(udpPayloadSize: 1232).record]
        )
    }

    @Test func theUnicastTypesRoundTripCompressed() throws {
        let bytes = try unicastReply.encoded()
        #expect(try DNSMessage(decoding: bytes) == unicastReply)
        // `example.test` is written once, in the question; `ns`, `mail` and `hostmaster` once each: the names in
        // MX, CNAME, NS and SOA data point back (RFC 1035 types, so RFC 3597 §4 allows it).
        for label in ["example", "ns", "mail", "hostmaster"] {
            let needle = [UInt8(label.utf8.count)] + Array(label.utf8)
            let occurrences = bytes.indices.filter { bytes[$0...].starts(with: needle) }.count
            #expect(occurrences == 1, "\(label) written \(occurrences) times")
        }
        #expect(bytes.count == 144, "header 12, question 18, MX 21, CNAME 18, NS 17, SOA 47, OPT 11")
    }

    /// The fuzz target's seeds (Fuzz/Corpus/FuzzDNSMessage) must decode, or the fuzzer would start from refused
    /// inputs: between them they hold every record type the codec decodes.
    @Test func theFuzzSeedsDecodeWithEveryType() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Fuzz/Corpus/FuzzDNSMessage").standardized.path
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(names == ["mdns-response", "nxdomain-soa", "truncated-question-only", "unicast-every-type"])
        var types: Set<DNSRecordType> = []
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
            let message = try DNSMessage(decoding: bytes)
            for record in message.answers + message.authorities + message.additionals { types.insert(record.type) }
        }
        let expected: Set<DNSRecordType> = [
            .a, .aaaa, .ns, .cname, .soa, .ptr, .mx, .txt, .srv, .nsec, .opt, DNSRecordType(rawValue: 65534),
        ]
        #expect(types == expected)
    }

    @Test func onlyTheQuestionsOfATruncatedReply() throws {
        let bytes = try unicastReply.encoded()
        // Cut inside the first answer, as some servers cut a reply with the TC bit.
        let cut = Array(bytes.prefix(40))
        #expect(throws: DNSError.self) { try DNSMessage(decoding: cut) }
        let questions = try DNSMessage(decodingQuestionsOf: cut)
        #expect(questions.id == 0xBEEF && questions.questions == unicastReply.questions)
        #expect(questions.answers.isEmpty && questions.authorities.isEmpty && questions.additionals.isEmpty)
        #expect(throws: DNSError.truncated(at: 20)) { try DNSMessage(decodingQuestionsOf: bytes.prefix(20)) }
    }

    @Test func anEmptyTXTRecordIsOneEmptyString() throws {
        let message = DNSMessage(answers: [DNSRecord(name: instance, ttl: 1, data: .txt([]))])
        let decoded = try DNSMessage(decoding: try message.encoded())
        #expect(decoded.answers.first?.data == .txt([[]]))
    }

    // MARK: - Malformed messages: each is refused with its reason.

    /// A header with the given counts, then `body`.
    private func packet(questions: UInt16 = 0, answers: UInt16 = 0, _ body: [UInt8]) -> [UInt8] {
        [
            0, 0, 0, 0, UInt8(questions >> 8), UInt8(questions & 0xFF), UInt8(answers >> 8), UInt8(answers & 0xFF), 0,
            0, 0, 0,
        ]
            + body
    }

    @Test func aPointerToItselfIsALoop() {
        #expect(throws: DNSError.compressionLoop(at: 12)) {
            try DNSMessage(decoding: packet(questions: 1, [0xC0, 12, 0, 1, 0, 1]))
        }
    }

    @Test func pointersMustEachLeadFurtherBack() throws {
        // Offset 12: "a", then a pointer forward to 17, which points back to 12: refused at the first pointer.
        let loop: [UInt8] = [1, 0x61, 0xC0, 17, 0, 0xC0, 12, 0, 1, 0, 1]
        #expect(throws: DNSError.compressionLoop(at: 14)) { try DNSMessage(decoding: packet(questions: 1, loop)) }
        // A chain that keeps going back decodes: "a" at 12, "b" -> 12 at 19, "c" -> 19 at 27.
        let chain: [UInt8] =
            [1, 0x61, 0, 0, 1, 0, 1] + [1, 0x62, 0xC0, 12, 0, 1, 0, 1] + [1, 0x63, 0xC0, 19, 0, 1, 0, 1]
        let message = try DNSMessage(decoding: packet(questions: 3, chain))
        #expect(message.questions.map(\.name.description) == ["a", "b.a", "c.b.a"])
    }

    @Test func aPointerOutsideTheMessageIsRefused() {
        #expect(throws: DNSError.pointerOutOfRange(at: 12)) {
            try DNSMessage(decoding: packet(questions: 1, [0xC3, 0xFF, 0, 1, 0, 1]))
        }
    }

    @Test func reservedLabelTypesAreRefused() {
        #expect(throws: DNSError.reservedLabelType(at: 12)) {
            try DNSMessage(
                decoding: packet(questions: 1, [0x40] + Array(repeating: 0x61, count: 64) + [0, 0, 1, 0, 1])
            )
        }
    }

    @Test func aNameOverTwoHundredFiftyFiveBytesIsRefused() {
        let labels: [UInt8] = (0..<5).flatMap { _ in [UInt8(63)] + Array(repeating: UInt8(0x61), count: 63) }
        #expect(throws: DNSError.nameTooLong(257)) {
            try DNSMessage(decoding: packet(questions: 1, labels + [0, 0, 1, 0, 1]))
        }
    }

    @Test func countsLargerThanThePacketAreRefusedBeforeAllocating() {
        #expect(throws: DNSError.countTooLarge(section: "question", count: 65_535)) {
            try DNSMessage(decoding: packet(questions: 65_535, [0, 0, 1, 0, 1]))
        }
        #expect(throws: DNSError.countTooLarge(section: "answer", count: 1_000)) {
            try DNSMessage(decoding: packet(answers: 1_000, Array(repeating: 0, count: 100)))
        }
    }

    @Test func truncatedMessagesAreRefused() throws {
        let bytes = try response.encoded()
        for length in [0, 5, 11, 13, bytes.count / 2, bytes.count - 1] {
            #expect(throws: DNSError.self, "cut at \(length)") { try DNSMessage(decoding: bytes.prefix(length)) }
        }
    }

    @Test func recordDataOfTheWrongShapeIsRefused() {
        // Root owner, type A, class IN, TTL 0, 5 bytes of data.
        let a5: [UInt8] = [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5]
        #expect(throws: DNSError.badRecordData(type: 1, at: 23)) { try DNSMessage(decoding: packet(answers: 1, a5)) }
        // TXT whose one string claims 9 bytes of 3.
        let txt: [UInt8] = [0, 0, 16, 0, 1, 0, 0, 0, 0, 0, 3, 9, 0x61, 0x62]
        #expect(throws: DNSError.badRecordData(type: 16, at: 23)) { try DNSMessage(decoding: packet(answers: 1, txt)) }
        // SRV whose target's label runs past the record's data, into the bytes after it.
        let srv: [UInt8] = [0, 0, 33, 0, 1, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 80, 3, 0x61, 0x62, 0x63, 0]
        #expect(throws: DNSError.truncated(at: 29)) { try DNSMessage(decoding: packet(answers: 1, srv)) }
        // MX of 2 bytes: a preference and no exchange.
        let mx: [UInt8] = [0, 0, 15, 0, 1, 0, 0, 0, 0, 0, 2, 0, 10]
        #expect(throws: DNSError.badRecordData(type: 15, at: 23)) { try DNSMessage(decoding: packet(answers: 1, mx)) }
        // SOA whose two root names are followed by 16 bytes of numbers, not 20; then by 24.
        for count in [16, 24] {
            let soa: [UInt8] =
                [0, 0, 6, 0, 1, 0, 0, 0, 0, 0, UInt8(2 + count), 0, 0] + Array(repeating: 7, count: count)
            #expect(throws: DNSError.badRecordData(type: 6, at: 23)) {
                try DNSMessage(decoding: packet(answers: 1, soa))
            }
        }
        // CNAME whose name runs past its 2 bytes of data.
        let cname: [UInt8] = [0, 0, 5, 0, 1, 0, 0, 0, 0, 0, 2, 3, 0x61, 0x62, 0x63, 0]
        #expect(throws: DNSError.truncated(at: 23)) { try DNSMessage(decoding: packet(answers: 1, cname)) }
    }
}
