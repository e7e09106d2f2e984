import Testing
import UDP
import UDPDNS

@testable import UDPDiscovery

/// `RecordKey` compares and hashes through folded bytes made once (for speed under a flood): it must agree with
/// what the records' own comparison says, names ignoring ASCII case and nothing else.
@Suite struct RecordKeyTests {
    /// What RecordKey compared before it kept its bytes: the fields, through `DNSName`'s own comparison.
    func sameRecord(_ a: DNSRecord, _ b: DNSRecord) -> Bool {
        a.name == b.name && a.type == b.type && a.rawClass & 0x7FFF == b.rawClass & 0x7FFF && a.data == b.data
    }

    func expectAgrees(_ a: DNSRecord, _ b: DNSRecord, sourceLocation: SourceLocation = #_sourceLocation) {
        let same = sameRecord(a, b)
        #expect((RecordKey(a) == RecordKey(b)) == same, "\(a) vs \(b)", sourceLocation: sourceLocation)
        if same { #expect(RecordKey(a).hashValue == RecordKey(b).hashValue, sourceLocation: sourceLocation) }
        #expect((NameKey(a.name) == NameKey(b.name)) == (a.name == b.name), sourceLocation: sourceLocation)
    }

    @Test func everyByteFoldsOnlyWhereDNSFoldsIt() throws {
        // Each byte value at each offset of a label long enough for the eight-byte steps and the tail after.
        for byte in UInt8.min...UInt8.max {
            for offset in [0, 5, 7, 8, 13, 20] {
                var label = Array(repeating: UInt8(ascii: "q"), count: 21)
                label[offset] = byte
                var lower = label
                if (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) { lower[offset] = byte | 0x20 }
                var other = label
                other[offset] = byte ^ 0x20  // the other case of a letter, a different byte otherwise
                let name = try DNSName(labels: [label, Array("local".utf8)])
                for variant in [lower, other] {
                    let twin = try DNSName(labels: [variant, Array("local".utf8)])
                    expectAgrees(
                        DNSRecord(name: name, ttl: 1, data: .a(IPv4Address(1, 2, 3, 4))),
                        DNSRecord(name: twin, ttl: 1, data: .a(IPv4Address(1, 2, 3, 4)))
                    )
                    expectAgrees(
                        DNSRecord(name: twin, ttl: 1, data: .ptr(name)),
                        DNSRecord(name: twin, ttl: 1, data: .ptr(twin))
                    )
                }
            }
        }
    }

    @Test func keysDifferWhereTheRecordsDo() throws {
        let a = DNSName("Box.local")!
        let b = DNSName("box.LOCAL")!
        let c = DNSName("box.local.zone")!
        let datas: [DNSRecordData] = [
            .a(IPv4Address(198, 18, 0, 1)), .a(IPv4Address(198, 18, 0, 2)), .aaaa(IPv6Address("fd75:6470::1")!),
            .ptr(a), .ptr(b), .ptr(c), .ns(a), .cname(a), .mx(preference: 1, exchange: a),
            .mx(preference: 2, exchange: a), .srv(priority: 0, weight: 0, port: 80, target: a),
            .srv(priority: 0, weight: 0, port: 80, target: b), .srv(priority: 0, weight: 1, port: 80, target: a),
            .txt([]), .txt([[]]), .txt([[1, 2]]), .txt([[1], [2]]), .txt([Array("K=v".utf8)]),
            .txt([Array("k=v".utf8)]), .nsec(next: a, types: [.a]), .nsec(next: b, types: [.a, .aaaa]),
            .unknown(type: DNSRecordType(rawValue: 99), bytes: [1]),
            .unknown(type: DNSRecordType(rawValue: 98), bytes: [1]),
            .soa(
                DNSStartOfAuthority(
                    primaryServer: a,
                    mailbox: c,
                    serial: 1,
                    refresh: 2,
                    retry: 3,
                    expire: 4,
                    minimum: 5
                )
            ),
        ]
        for (nameA, nameB) in [(a, a), (a, b), (a, c)] {
            for (x, y) in zip(datas, datas.dropFirst()) + datas.map({ ($0, $0) }) {
                expectAgrees(DNSRecord(name: nameA, ttl: 1, data: x), DNSRecord(name: nameB, ttl: 9, data: y))
            }
        }
        // The class counts without its cache-flush bit.
        expectAgrees(
            DNSRecord(name: a, rawClass: 0x8001, ttl: 1, data: .ptr(c)),
            DNSRecord(name: b, ttl: 1, data: .ptr(c))
        )
        expectAgrees(DNSRecord(name: a, rawClass: 3, ttl: 1, data: .ptr(c)), DNSRecord(name: b, ttl: 1, data: .ptr(c)))
    }

    @Test func aChangedFieldChangesTheKey() {
        var key = RecordKey(DNSRecord(name: DNSName("box.local")!, ttl: 1, data: .a(IPv4Address(198, 18, 0, 1))))
        let before = key
        key.data = .a(IPv4Address(198, 18, 0, 2))
        #expect(key != before)
        key.data = .a(IPv4Address(198, 18, 0, 1))
        key.name = DNSName("BOX.local")!
        #expect(key == before && key.hashValue == before.hashValue)
    }
}
