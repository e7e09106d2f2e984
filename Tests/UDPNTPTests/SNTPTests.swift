import Testing
import UDP

@testable import UDPNTP

@Suite struct NTPPacketTests {
    @Test func aPacketSurvivesEncodingAndDecoding() throws {
        let packet = NTPPacket(
            leap: .add,
            version: 4,
            mode: .server,
            stratum: 2,
            poll: 6,
            precision: -20,
            rootDelay: 0x0001_8000,
            rootDispersion: 0x0000_4000,
            referenceID: 0x7F7F_0101,
            referenceTimestamp: NTPTimestamp(rawValue: 0xE9A1_C2B3_1A2B_3C4D),
            originTimestamp: NTPTimestamp(rawValue: 1),
            receiveTimestamp: NTPTimestamp(rawValue: 2),
            transmitTimestamp: NTPTimestamp(rawValue: 3)
        )
        let bytes = packet.encoded
        #expect(bytes.count == 48)
        #expect(bytes[0] == 0b01_100_100)  // leap 1, version 4, mode 4
        #expect(NTPPacket(decoding: bytes) == packet)
        // Whole extension fields after the header are skipped; fewer than 48 bytes are no packet.
        #expect(NTPPacket(decoding: bytes + [0, 1, 0, 16] + [UInt8](repeating: 7, count: 12)) == packet)
        #expect(NTPPacket(decoding: bytes.dropLast()) == nil)
        #expect(packet.rootDelayDuration == .milliseconds(1_500) && packet.rootDispersionDuration == .milliseconds(250))
    }

    /// `length` bytes of one extension field of type 0x0104 that claims `claimed` bytes.
    func field(claiming claimed: Int, length: Int) -> [UInt8] {
        [1, 4, UInt8(claimed >> 8), UInt8(claimed & 0xFF)] + [UInt8](repeating: 0xEF, count: length - 4)
    }

    @Test("a packet is 48 bytes, whole extension fields of 16 bytes or more and a multiple of 4, and one MAC")
    func lengthsFollowRFC7822() throws {
        let header = NTPPacket(mode: .server, stratum: 2).encoded
        let mac = { (count: Int) in [UInt8](repeating: 0xAA, count: count) }
        let wellFormed: [[UInt8]] = [
            header,
            header + mac(20),
            header + mac(24),
            header + field(claiming: 16, length: 16),
            header + field(claiming: 28, length: 28),
            header + field(claiming: 16, length: 16) + field(claiming: 32, length: 32) + mac(24),
            header + field(claiming: 16, length: 16) + mac(20),
        ]
        for bytes in wellFormed {
            #expect(NTPPacket.Layout.check(bytes) == nil, "\(bytes.count) bytes")
            #expect(throws: Never.self) { try NTPPacket(parsing: bytes) }
        }
        let malformed: [([UInt8], NTPPacket.Malformation)] = [
            ([], .tooShort),
            (Array(header.dropLast()), .tooShort),
            (header + [0, 0, 0], .trailingBytes),
            (header + [1, 2, 0, 5], .badExtensionField),
            (header + [1, 2, 3, 4], .trailingBytes),
            (header + mac(16), .badExtensionField),
            (header + field(claiming: 12, length: 12), .badExtensionField),
            (header + field(claiming: 18, length: 18), .badExtensionField),
            (header + field(claiming: 32, length: 28), .trailingBytes),
            (header + field(claiming: 16, length: 16) + [0, 0], .trailingBytes),
            (header + mac(28), .badExtensionField),
            (header + field(claiming: 16, length: 16) + mac(23), .badExtensionField),
            (header + field(claiming: 0xFFFC, length: 28), .trailingBytes),
        ]
        for (bytes, reason) in malformed {
            #expect(NTPPacket.Layout.check(bytes) == reason, "\(bytes.count) bytes")
            #expect(NTPPacket(decoding: bytes) == nil)
            #expect(throws: reason) { try NTPPacket(parsing: bytes) }
        }
    }

    @Test func theReferenceIDPrintsAsNtpqPrintsIt() {
        #expect(NTPPacket(mode: .server, stratum: 10, referenceID: 0x7F7F_0101).referenceIDText == "127.127.1.1")
        #expect(NTPPacket(mode: .server, stratum: 1, referenceID: 0x4750_5300).referenceIDText == "GPS")
        #expect(NTPPacket(mode: .server, stratum: 1, referenceID: 0x0102_0304).referenceIDText == "1.2.3.4")
        #expect(KissCode.rate.description == "RATE" && KissCode(referenceID: 0x0102_0304).description == "0x1020304")
    }

    @Test func unixTimeConvertsToNTPTime() {
        // 1970 is 2,208,988,800 s after 1900; half a second is 2^31 of the fraction.
        let stamp = NTPTimestamp(WallClockTime(nanosecondsSince1970: 500_000_000))
        #expect(stamp.rawValue == UInt64(2_208_988_800) << 32 | 1 << 31)
        #expect(stamp.description == "83aa7e80.80000000")
        #expect(stamp.wallClockTime == WallClockTime(nanosecondsSince1970: 500_000_000))
    }

    @Test func differencesHoldAcrossTheEraBoundaryOf2036() {
        // The last second of era 0 and the first of era 1 (7 February 2036).
        let before = NTPTimestamp(rawValue: 0xFFFF_FFFF << 32)
        let after = NTPTimestamp(rawValue: 1 << 32)
        #expect(after.duration(since: before) == .seconds(2))
        #expect(before.duration(since: after) == .seconds(-2))
        let unixAfterTime = WallClockTime(nanosecondsSince1970: (0x1_0000_0000 - 2_208_988_800 + 1) * 1_000_000_000)
        let unixAfter = NTPTimestamp(unixAfterTime)
        #expect(unixAfter == after)
        #expect(after.wallClockTime == unixAfterTime, "a time before 1970 reads as the next era")
    }
}

@Suite struct SNTPRequestTests {
    let request = SNTPRequest(nonce: 0x1234_5678_9ABC_DEF0)

    /// A valid reply to `request`, to be spoiled one field at a time.
    var reply: NTPPacket {
        NTPPacket(
            mode: .server,
            stratum: 10,
            rootDelay: 0,
            rootDispersion: 0x10,
            referenceID: 0x7F7F_0101,
            originTimestamp: request.packet.transmitTimestamp,
            receiveTimestamp: NTPTimestamp(WallClockTime(nanosecondsSince1970: 1_000_000_000_000)),
            transmitTimestamp: NTPTimestamp(WallClockTime(nanosecondsSince1970: 1_000_000_100_000))
        )
    }

    @Test func theRequestIsAVersion4ClientRequestCarryingTheNonce() {
        #expect(request.packet.mode == .client && request.packet.version == 4)
        #expect(request.packet.transmitTimestamp.rawValue == 0x1234_5678_9ABC_DEF0)
        #expect(request.packet.originTimestamp == .zero && request.packet.receiveTimestamp == .zero)
        #expect(SNTPRequest().packet.transmitTimestamp != SNTPRequest().packet.transmitTimestamp)
    }

    @Test func aValidReplyIsAccepted() {
        #expect(request.check(reply) == .reply(reply))
    }

    @Test func eachSpoiledFieldIsRefusedWithItsReason() {
        func spoiled(_ change: (inout NTPPacket) -> Void) -> SNTPRequest.Verdict {
            var packet = reply
            change(&packet)
            return request.check(packet)
        }
        #expect(request.check(nil) == .invalid(.malformed))
        #expect(request.check(datagram: [1, 2, 3]) == .invalid(.malformed))
        #expect(request.check(datagram: reply.encoded + [0, 1, 0, 8]) == .invalid(.badExtensionField))
        #expect(request.check(datagram: reply.encoded + [0, 1]) == .invalid(.trailingBytes))
        #expect(request.check(datagram: reply.encoded + [UInt8](repeating: 0, count: 20)) == .reply(reply))
        #expect(spoiled { $0.originTimestamp = NTPTimestamp(rawValue: 1) } == .invalid(.wrongOrigin))
        #expect(spoiled { $0.mode = .client } == .invalid(.notServer))
        #expect(spoiled { $0.mode = .broadcast } == .invalid(.notServer))
        #expect(spoiled { $0.version = 0 } == .invalid(.badVersion))
        #expect(spoiled { $0.leap = .unsynchronised } == .invalid(.unsynchronised))
        #expect(spoiled { $0.stratum = 16 } == .invalid(.unsynchronised))
        #expect(spoiled { $0.transmitTimestamp = .zero } == .invalid(.noTime))
        #expect(spoiled { $0.rootDispersion = 17 << 16 } == .invalid(.rootDistance))
        // A leap second coming is no reason to refuse.
        #expect(spoiled { $0.leap = .add } != .invalid(.unsynchronised))
    }

    @Test func stratumZeroIsAKissOfDeathWhateverElseItSays() {
        var kiss = reply
        kiss.stratum = 0
        kiss.referenceID = KissCode.rate.referenceID
        kiss.leap = .unsynchronised
        kiss.mode = .client
        #expect(request.check(kiss) == .kissOfDeath(.rate))
        #expect(!KissCode.rate.meansStop && KissCode.deny.meansStop && KissCode.restricted.meansStop)
        // But only as a reply to this request: a forged one without the nonce is just wrong.
        kiss.originTimestamp = .zero
        #expect(request.check(kiss) == .invalid(.wrongOrigin))
    }
}

@Suite struct NTPSampleTests {
    static let second: UInt64 = 1_000_000_000

    /// `nanoseconds` after 1970.
    func time(_ nanoseconds: UInt64) -> WallClockTime { WallClockTime(nanosecondsSince1970: nanoseconds) }

    /// `duration` in seconds, to compare within a tolerance.
    func seconds(_ duration: Duration) -> Double { duration / .seconds(1) }

    @Test func offsetAndDelayComeFromTheFourTimestamps() {
        // Sent at 100 s, the server (2 s ahead) took it at its 102.1 s and answered at 102.2 s, back at 100.3 s:
        // 0.1 s each way, 0.1 s at the server.
        let reply = NTPPacket(
            mode: .server,
            stratum: 2,
            receiveTimestamp: NTPTimestamp(WallClockTime(nanosecondsSince1970: 102_100_000_000)),
            transmitTimestamp: NTPTimestamp(WallClockTime(nanosecondsSince1970: 102_200_000_000))
        )
        let sample = NTPSample(reply: reply, sentAt: time(100 * Self.second), receivedAt: time(100_300_000_000))
        #expect(abs(seconds(sample.offset) - 2.0) < 1e-6)
        #expect(abs(seconds(sample.delay) - 0.2) < 1e-6)
        // A server behind gives a negative offset.
        let behind = NTPSample(reply: reply, sentAt: time(104 * Self.second), receivedAt: time(104_300_000_000))
        #expect(abs(seconds(behind.offset) + 2.0) < 1e-6)
    }

    @Test func theClockFilterTakesTheLeastDelay() {
        func sample(_ delay: Duration, _ offset: Duration) -> NTPSample {
            var sample = NTPSample(reply: NTPPacket(mode: .server), sentAt: time(0), receivedAt: time(0))
            sample.delay = delay
            sample.offset = offset
            return sample
        }
        let best = NTPSample.best(of: [
            sample(.milliseconds(300), .seconds(1)), sample(.milliseconds(100), .seconds(2)),
            sample(.milliseconds(200), .seconds(3)),
        ])
        #expect(best?.offset == .seconds(2))
        #expect(NTPSample.best(of: []) == nil)
    }
}
