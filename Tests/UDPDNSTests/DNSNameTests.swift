import Testing
import UDPDNS

@Suite struct DNSNameTests {
    @Test func textRoundTripsWithEscapes() throws {
        let name = try #require(DNSName(#"My Printer \(2\)\.x._ipp._tcp.local."#))
        #expect(name.labels.count == 4)
        #expect(name.labels[0] == Array("My Printer (2).x".utf8))
        #expect(name.description == #"My Printer (2)\.x._ipp._tcp.local"#)
        #expect(DNSName(name.description) == name)
    }

    @Test func namesCompareIgnoringASCIICase() {
        #expect(DNSName("_HTTP._tcp.Local") == DNSName("_http._tcp.local"))
        #expect(Set([DNSName("A.local")!, DNSName("a.LOCAL")!]).count == 1)
        #expect(DNSName("é.local") != DNSName("É.local"), "only ASCII folds")
    }

    @Test func controlBytesAndBidiOverridesPrintEscaped() throws {
        let name = try DNSName(labels: [[0x1B, 0x5B, 0x32, 0x4A], Array("\u{202E}evil".utf8), Array("ok é".utf8)])
        #expect(name.description == #"\027[2J.\226\128\174evil.ok é"#)
        #expect(DNSName(name.description) == name, "what is printed parses back to the same bytes")
    }

    @Test func theRootAndBadNames() throws {
        #expect(DNSName(".") == .root)
        #expect(DNSName.root.description == ".")
        #expect(DNSName("a..b") == nil)
        #expect(DNSName(String(repeating: "x", count: 64) + ".local") == nil)
        #expect(DNSName(#"bad\2"#) == nil)
        #expect(DNSName(#"\256"#) == nil)
        let long = Array(repeating: String(repeating: "x", count: 63), count: 4).joined(separator: ".")
        #expect(DNSName(long) == nil, "4 × 64 + 1 = 257 bytes on the wire")
        #expect(throws: DNSError.labelTooLong(64)) { try DNSName(labels: [Array(repeating: 1, count: 64)]) }
        #expect(throws: DNSError.emptyLabel) { try DNSName(labels: [[]]) }
    }
}
