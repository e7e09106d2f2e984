import FuzzDriver
import UDPDNS

// Any bytes decode to a DNS message or are refused with a DNSError: never a crash, a hang or an out-of-bounds
// read. What decodes must encode, and after one encoding (which normalises: compression, an empty TXT as one
// empty string, NSEC types sorted) decoding and encoding again changes nothing. Every record type the codec
// decodes (A, AAAA, NS, CNAME, SOA, PTR, MX, TXT, SRV, NSEC, OPT through EDNS, the rest as bytes) is printed as
// dig prints it, which must not crash either, and the question-only decoding of truncated replies must agree
// with the full one, as must the lenient decoding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let questionsOnly = try? DNSMessage(decodingQuestionsOf: bytes)
    // The lenient decoding the mDNS engines use (a bad record skipped, not the packet) never crashes, takes no
    // header the strict one refuses, and agrees with the strict one where that succeeds.
    let lenient = try? DNSMessage.decodingLeniently(bytes)
    if lenient != nil, questionsOnly == nil { fatalError("the lenient decoding took a header the strict one refused") }
    if let strict = try? DNSMessage(decoding: bytes) {
        guard let lenient, lenient.message == strict, lenient.skippedRecords == 0 else {
            fatalError("the lenient decoding disagrees with the strict one on a well-formed message")
        }
    }
    guard let first = try? DNSMessage(decoding: bytes) else { return 0 }
    guard let questionsOnly, questionsOnly.id == first.id, questionsOnly.flags == first.flags,
        questionsOnly.questions == first.questions
    else { fatalError("the question-only decoding disagrees with the full one") }
    guard let written = try? first.encoded(), let second = try? DNSMessage(decoding: written),
        let rewritten = try? second.encoded(), let third = try? DNSMessage(decoding: rewritten)
    else { fatalError("a decoded message does not encode and decode again") }
    guard second == third else { fatalError("encoding a decoded message is not stable") }
    present(first)
    return 0
}

/// Prints the message as `udp dns` does; the text is checked only for being printable ASCII lines.
private func present(_ message: DNSMessage) {
    let edns = try? message.edns
    var lines = message.headerLines(edns: edns) + message.questions.map(\.presentation)
    lines += (message.answers + message.authorities + message.additionals).map(\.presentation)
    lines += edns?.presentationLines ?? []
    for line in lines where !line.unicodeScalars.allSatisfy({ $0 == "\t" || (0x20..<0x7F).contains($0.value) }) {
        fatalError("a presentation line holds a byte outside printable ASCII: \(line.debugDescription)")
    }
}

@_cdecl("FuzzDNSMessage_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
