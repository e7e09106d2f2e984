import Testing
import UDP
import UDPDNS
import UDPTools

/// RFC 5452's checks, one reason at a time, without a socket.
@Suite struct DNSReplyFilterTests {
    let server = SocketAddress(IPv4Address(198, 18, 0, 53), port: 53)
    let query = DNSMessage.query(id: 0x1234, question: DNSQuestion(name: DNSName("www.example.test")!, type: .a))
    var filter: DNSReplyFilter { DNSReplyFilter(server: server, query: query) }

    func bytes(_ message: DNSMessage) throws -> [UInt8] { try message.encoded() }

    @Test func theReplyPassesWithTheNameInAnyCase() throws {
        var answer = reply(to: query, answers: [aRecord("www.example.test", "198.18.0.7")])
        answer.questions[0].name = DNSName("WWW.Example.TEST")!
        let wire = try bytes(answer)
        guard case .reply(let passed) = filter.check(wire, from: server) else {
            Issue.record("refused")
            return
        }
        #expect(passed.message.answers == answer.answers && passed.size == wire.count)
        #expect(passed.responseCode == 0 && !passed.recordsUnreadable)
        // An IPv4 server's reply reaches a dual-stack socket as a mapped address: the same endpoint.
        let mapped = SocketAddress(IPv6Address(v4Mapped: IPv4Address(198, 18, 0, 53)), port: 53)
        #expect(filter.check(try bytes(answer), from: mapped) != .ignored(.wrongSource))
    }

    @Test func eachForgeryIsIgnoredWithItsReason() throws {
        let good = reply(to: query, answers: [aRecord("www.example.test", "198.18.0.7")])
        var wrongID = good
        wrongID.id ^= 1
        var wrongName = good
        wrongName.questions[0].name = DNSName("www.example.test.evil")!
        var wrongType = good
        wrongType.questions[0].type = .aaaa
        var wrongClass = good
        wrongClass.questions[0].rawClass = 3
        var notAResponse = good
        notAResponse.isResponse = false
        var otherOpcode = good
        otherOpcode.flags |= 4 << 11  // NOTIFY
        let cases: [([UInt8], SocketAddress, DNSIgnoredReason)] = [
            (try bytes(good), SocketAddress(IPv4Address(198, 18, 0, 54), port: 53), .wrongSource),
            (try bytes(good), SocketAddress(IPv4Address(198, 18, 0, 53), port: 5353), .wrongSource),
            (try bytes(wrongID), server, .wrongID),
            (try bytes(wrongName), server, .wrongQuestion),
            (try bytes(wrongType), server, .wrongQuestion),
            (try bytes(wrongClass), server, .wrongQuestion),
            (try bytes(notAResponse), server, .notAResponse),
            (try bytes(otherOpcode), server, .notAResponse),
            (Array(try bytes(good).dropLast()), server, .malformed),
            ([0x12, 0x34, 0x84], server, .malformed),
        ]
        for (bytes, sender, reason) in cases {
            #expect(filter.check(bytes, from: sender) == .ignored(reason), "\(reason)")
        }
    }

    @Test func aMalformedOPTRecordMakesTheReplyMalformed() throws {
        var twice = reply(to: query, answers: [])
        twice.additionals = [EDNS().record, EDNS().record]
        #expect(filter.check(try bytes(twice), from: server) == .ignored(.malformed))
    }

    @Test func anErrorWithoutQuestionOrRecordsIsTakenButNoNegativeAnswer() throws {
        var formerr = DNSMessage(id: query.id, flags: 0x8001)
        #expect(filter.check(try bytes(formerr), from: server) != .ignored(.wrongQuestion))
        formerr.flags = 0x8005  // REFUSED
        #expect(filter.check(try bytes(formerr), from: server) != .ignored(.wrongQuestion))
        // NXDOMAIN denies a name, and NOERROR with records asserts some: both must say which question.
        let nxdomain = DNSMessage(id: query.id, flags: 0x8003)
        #expect(filter.check(try bytes(nxdomain), from: server) == .ignored(.wrongQuestion))
        let records = DNSMessage(id: query.id, flags: 0x8002, answers: [aRecord("www.example.test", "198.18.0.66")])
        #expect(filter.check(try bytes(records), from: server) == .ignored(.wrongQuestion))
    }

    @Test func aTruncatedReplyCutInsideARecordShowsItsQuestion() throws {
        var truncated = reply(to: query, answers: [aRecord("www.example.test", "198.18.0.7")])
        truncated.isTruncated = true
        let cut = Array(try bytes(truncated).dropLast(2))
        guard case .reply(let passed) = filter.check(cut, from: server) else {
            Issue.record("refused")
            return
        }
        #expect(passed.recordsUnreadable && passed.message.isTruncated && passed.message.answers.isEmpty)
        // Without TC the same cut is malformed.
        truncated.isTruncated = false
        #expect(filter.check(Array(try bytes(truncated).dropLast(2)), from: server) == .ignored(.malformed))
    }

    @Test func aLinkLocalServerMatchesItsScope() throws {
        let address = IPv6Address("fe80::53")!
        let scoped = DNSReplyFilter(server: SocketAddress(address, port: 53, scopeID: 2), query: query)
        let answer = try bytes(reply(to: query, answers: []))
        #expect(scoped.check(answer, from: SocketAddress(address, port: 53, scopeID: 3)) == .ignored(.wrongSource))
        #expect(scoped.check(answer, from: SocketAddress(address, port: 53, scopeID: 2)) != .ignored(.wrongSource))
    }

    @Test func ignoredCountsSayWhy() {
        var counts = DNSIgnoredCounts()
        #expect(counts.description.isEmpty && counts.total == 0)
        counts.record(.wrongID)
        #expect(counts.description == "ignored 1 reply: wrong id")
        counts.record(.wrongID)
        #expect(counts.description == "ignored 2 replies: wrong id")
        counts.record(.wrongSource)
        #expect(counts.description == "ignored 3 replies: 1 wrong source, 2 wrong id")
        #expect(counts.byReason.map(\.reason.rawValue) == ["wrong_source", "wrong_id"])
    }
}
