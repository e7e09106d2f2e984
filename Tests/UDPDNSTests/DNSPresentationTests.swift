import Testing
import UDP
import UDPDNS

// The expected lines are dig 9.18's own output (`dig +noall +answer`) for the same records, tabs included.
@Suite struct DNSPresentationTests {
    let zone = DNSName("example.test")!

    @Test func recordsPrintAsDigPrintsThem() throws {
        let cases: [(DNSRecord, String)] = [
            (
                DNSRecord(name: DNSName("a.test")!, ttl: 300, data: .a(IPv4Address(198, 18, 0, 7))),
                "a.test.\t\t\t300\tIN\tA\t198.18.0.7"
            ),
            (
                DNSRecord(name: DNSName("host.example.test")!, ttl: 300, data: .aaaa(IPv6Address("fd75:6470::8")!)),
                "host.example.test.\t300\tIN\tAAAA\tfd75:6470::8"
            ),
            (
                DNSRecord(name: zone, ttl: 300, data: .mx(preference: 10, exchange: DNSName("mail.example.test")!)),
                "example.test.\t\t300\tIN\tMX\t10 mail.example.test."
            ),
            (
                DNSRecord(
                    name: DNSName("_sip._udp.example.test")!,
                    ttl: 300,
                    data: .srv(priority: 0, weight: 5, port: 5060, target: DNSName("sip.example.test")!)
                ), "_sip._udp.example.test.\t300\tIN\tSRV\t0 5 5060 sip.example.test."
            ),
            (
                DNSRecord(
                    name: DNSName("8.0.18.198.in-addr.arpa")!,
                    ttl: 300,
                    data: .ptr(DNSName("host.example.test")!)
                ), "8.0.18.198.in-addr.arpa. 300\tIN\tPTR\thost.example.test."
            ),
            (
                DNSRecord(
                    name: DNSName("x.example.test")!,
                    ttl: 300,
                    data: .unknown(type: DNSRecordType(rawValue: 65534), bytes: [0x0A, 0x0B, 0x0C])
                ), "x.example.test.\t\t300\tIN\tTYPE65534 \\# 3 0A0B0C"
            ),
            (
                DNSRecord(name: zone, ttl: 300, data: .soa(.exampleTest)),
                "example.test.\t\t300\tIN\tSOA\tns.example.test. hostmaster.example.test. 2026120401 3600 900 604800 300"
            ),
        ]
        for (record, line) in cases { #expect(record.presentation == line) }
    }

    @Test func txtStringsAreQuotedWithDigsEscapes() {
        // dig: "A\010B\255\"\\" "" "\195\169\226\152\130 ;(" for these bytes.
        let strings: [[UInt8]] = [[0x41, 0x0A, 0x42, 0xFF, 0x22, 0x5C], [], Array("é☂ ;(".utf8)]
        #expect(
            DNSRecordData.txt(strings).presentation
                == #""A\010B\255\"\\" "" "\195\169\226\152\130 ;(""#
        )
        #expect(DNSRecordData.txt([]).presentation == #""""#)
    }

    @Test func namesEscapeWhatAZoneFileWouldReadOtherwise() throws {
        let name = try DNSName(labels: [
            Array("a b.c".utf8), Array(#"q"();@$\"#.utf8), [0x1B, 0xC3, 0xA9], Array("test".utf8),
        ])
        #expect(name.presentation == #"a\032b\.c.q\"\(\)\;\@\$\\.\027\195\169.test."#)
        #expect(DNSName.root.presentation == ".")
        #expect(DNSRecordData.mx(preference: 10, exchange: .root).presentation == "10 .")
    }

    @Test func genericDataBreaksIntoWordsOf28Bytes() {
        #expect(DNSRecordData.unknown(type: DNSRecordType(rawValue: 65534), bytes: []).presentation == "\\# 0")
        let bytes = (0..<48).map { UInt8($0) }
        // dig: \# 48 000102…1B 1C1D…2F
        let expected =
            "\\# 48 000102030405060708090A0B0C0D0E0F101112131415161718191A1B 1C1D1E1F202122232425262728292A2B2C2D2E2F"
        #expect(DNSRecordData.unknown(type: DNSRecordType(rawValue: 65534), bytes: bytes).presentation == expected)
    }

    @Test func theHeaderQuestionAndEDNSLines() throws {
        var message = DNSMessage.query(id: 6902, question: DNSQuestion(name: DNSName("nope.example.test")!, type: .a))
        message.isResponse = true
        message.recursionAvailable = true
        message.flags |= 3  // NXDOMAIN
        #expect(
            message.headerLines(edns: try message.edns) == [
                ";; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 6902",
                ";; flags: qr rd ra; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1",
            ]
        )
        #expect(message.questions[0].presentation == ";nope.example.test.\t\tIN\tA")
        #expect(DNSQuestion(name: DNSName("a.test")!, type: .a).presentation == ";a.test.\t\t\tIN\tA")
        let long = DNSQuestion(name: DNSName(String(repeating: "a", count: 30) + ".example.test")!, type: .a)
        #expect(long.presentation == ";" + String(repeating: "a", count: 30) + ".example.test. IN\tA")
        let edns = EDNS(options: [EDNS.Option(code: EDNS.Option.extendedErrorCode, data: [0, 14])])
        #expect(edns.presentationLines == ["; EDNS: version: 0, flags:; udp: 1232", "; EDE: 14 (Not Ready)"])
        message.flags = 0xFFFF & ~0x7800  // every flag, opcode 0
        #expect(message.flagNames == ["qr", "aa", "tc", "rd", "ra", "ad", "cd"])
        #expect(DNSMessage.responseCodeName(5) == "REFUSED" && DNSMessage.responseCodeName(2) == "SERVFAIL")
        #expect(DNSMessage.opcodeName(4) == "NOTIFY" && DNSMessage.className(3) == "CH")
    }

    @Test func typesReadBackFromTheirText() {
        for (text, type) in [
            ("a", DNSRecordType.a), ("Mx", .mx), ("TYPE65", DNSRecordType(rawValue: 65)),
            ("65", DNSRecordType(rawValue: 65)), ("type1", .a), ("SOA", .soa),
            ("65535", DNSRecordType(rawValue: 65535)),
        ] {
            #expect(DNSRecordType(text) == type, "\(text)")
        }
        for text in ["", "TYPE", "65536", "TYPE-1", "MAILB", "1e3", "+5", "٣"] {
            #expect(DNSRecordType(text) == nil, "\(text)")
        }
        #expect(DNSRecordType(rawValue: 65).description == "TYPE65")
        #expect(DNSRecordType.cname.description == "CNAME")
    }

    @Test func reverseLookupNames() throws {
        #expect(DNSName.reverseLookup(IPAddress("198.18.0.8")!).presentation == "8.0.18.198.in-addr.arpa.")
        #expect(
            DNSName.reverseLookup(IPAddress("fd75:6470::8")!).presentation
                == "8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.7.4.6.5.7.d.f.ip6.arpa."
        )
    }
}
