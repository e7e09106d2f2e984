import Foundation
import Testing
import UDP
import UDPDNS

/// Whether dnspython is installed (`.ci/run` installs it with pip): the other implementation these tests hold
/// the codec against.
private let hasDNSPython: Bool = (try? runPython("import dns.message")) != nil

/// Runs `script` with python3, `input` on its stdin; returns its stdout, or throws with its stderr.
private func runPython(_ script: String, input: String = "") throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let stdin = Pipe()
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw PythonFailed(message: errors) }
    return output
}

private struct PythonFailed: Error { var message: String }

private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

private func bytes(hex text: Substring) -> [UInt8] {
    var out: [UInt8] = []
    var index = text.startIndex
    while let next = text.index(index, offsetBy: 2, limitedBy: text.endIndex), index != text.endIndex {
        out.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return out
}

// The codec against dnspython, both ways: what one writes, the other reads the same.
@Suite(.enabled(if: hasDNSPython, "needs dnspython (pip install dnspython)"))
struct DNSPythonPeerTests {
    @Test func whatDNSPythonWritesDecodes() throws {
        let script = #"""
            import dns.message, dns.rrset, dns.flags
            m = dns.message.Message(id=4660)
            m.flags = dns.flags.QR | dns.flags.AA
            add = lambda section, *text: section.append(dns.rrset.from_text(*text))
            add(m.answer, "_ipp._tcp.local.", 4500, "IN", "PTR", "Printer\\ \\(2\\)._ipp._tcp.local.")
            add(m.additional, "Printer\\ \\(2\\)._ipp._tcp.local.", 120, "IN", "SRV", "0 5 631 printer.local.")
            add(m.additional, "Printer\\ \\(2\\)._ipp._tcp.local.", 4500, "IN", "TXT", '"rp=ipp/print" "ty=Test"')
            add(m.additional, "printer.local.", 120, "IN", "A", "198.18.3.7")
            add(m.additional, "printer.local.", 120, "IN", "AAAA", "fd75:6470:3::7")
            add(m.additional, "printer.local.", 120, "IN", "NSEC", "printer.local. A AAAA")
            print(m.to_wire().hex())
            """#
        let wire = bytes(hex: try runPython(script).split(separator: "\n")[0])
        let message = try DNSMessage(decoding: wire)
        let instance = try #require(DNSName("Printer (2)._ipp._tcp.local"))
        let host = try #require(DNSName("printer.local"))
        #expect(message.id == 4660 && message.isResponse && message.isAuthoritative)
        #expect(message.answers == [DNSRecord(name: DNSName("_ipp._tcp.local")!, ttl: 4500, data: .ptr(instance))])
        #expect(
            message.additionals.map(\.data) == [
                .srv(priority: 0, weight: 5, port: 631, target: host),
                .txt([Array("rp=ipp/print".utf8), Array("ty=Test".utf8)]),
                .a(IPv4Address(198, 18, 3, 7)),
                .aaaa(IPv6Address("fd75:6470:3::7")!),
                .nsec(next: host, types: [.a, .aaaa]),
            ]
        )
    }

    /// dnspython writes each record in its own presentation form (which is BIND's for these types); the codec
    /// decodes the wire form and must print the same text, escapes included.
    @Test func recordsPrintAsDNSPythonPrintsThem() throws {
        let script = #"""
            import dns.message, dns.rrset
            m = dns.message.Message(id=1)
            for text in [
                r'example.test. 300 IN MX 10 mail.example.test.',
                r'example.test. 300 IN SOA ns.example.test. host\.master.example.test. 2026120401 3600 900 604800 300',
                r'example.test. 300 IN NS ns.example.test.',
                r'www.example.test. 60 IN CNAME example.test.',
                r'a\032b\(c\).example.test. 60 IN A 198.18.0.9',
                r'txt.example.test. 60 IN TXT "A\010B\255\"\\" "" "\195\169 ;("',
                r'9.0.18.198.in-addr.arpa. 60 IN PTR a\032b\(c\).example.test.',
                r'_sip._udp.example.test. 60 IN SRV 0 5 5060 sip.example.test.',
                r'v6.example.test. 60 IN AAAA fd75:6470::9',
            ]:
                m.answer.append(dns.rrset.from_text(*text.split(' ', 4)))
                print(text)
            print(m.to_wire().hex())
            """#
        let lines = try runPython(script).split(separator: "\n")
        let message = try DNSMessage(decoding: bytes(hex: try #require(lines.last)))
        let expected = lines.dropLast()
        #expect(message.answers.count == expected.count)
        for (record, line) in zip(message.answers, expected) {
            let words = record.presentation.split(whereSeparator: { $0 == "\t" || $0 == " " }).joined(separator: " ")
            #expect(words == String(line))
        }
    }

    @Test func whatTheCodecWritesDNSPythonReads() throws {
        let instance = try #require(DNSName("Web Server._http._tcp.local"))
        let host = try #require(DNSName("box.local"))
        var message = DNSMessage(
            id: 7,
            questions: [DNSQuestion(name: DNSName("_http._tcp.local")!, type: .ptr)],
            answers: [DNSRecord(name: DNSName("_http._tcp.local")!, ttl: 4500, data: .ptr(instance))],
            additionals: [
                DNSRecord(name: instance, ttl: 120, data: .srv(priority: 1, weight: 2, port: 8080, target: host)),
                DNSRecord(name: instance, ttl: 4500, data: .txt([Array("path=/".utf8)])),
                DNSRecord(name: host, ttl: 120, data: .a(IPv4Address(198, 18, 3, 2))),
                DNSRecord(name: host, ttl: 120, data: .aaaa(IPv6Address("fd75:6470:3::2")!)),
                DNSRecord(name: host, ttl: 120, data: .nsec(next: host, types: [.a, .aaaa])),
            ]
        )
        message.isResponse = true
        message.isAuthoritative = true
        let text = try runPython(
            "import sys, dns.message; print(dns.message.from_wire(bytes.fromhex(sys.stdin.read())).to_text())",
            input: hex(try message.encoded())
        )
        for line in [
            "id 7", "flags QR AA", "_http._tcp.local. IN PTR",
            #"_http._tcp.local. 4500 IN PTR Web\032Server._http._tcp.local."#,
            #"Web\032Server._http._tcp.local. 120 IN SRV 1 2 8080 box.local."#,
            #"Web\032Server._http._tcp.local. 4500 IN TXT "path=/""#,
            "box.local. 120 IN A 198.18.3.2", "box.local. 120 IN AAAA fd75:6470:3::2",
            "box.local. 120 IN NSEC box.local. A AAAA",
        ] {
            #expect(text.split(separator: "\n").contains(Substring(line)), "\(line) not in:\n\(text)")
        }
    }
}
