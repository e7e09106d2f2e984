import FuzzDriver
import UDPDNS

// Any bytes decode to a DNS message or are refused with a DNSError: never a crash, a hang or an out-of-bounds
// read. What decodes must encode, and after one encoding (which normalises: compression, an empty TXT as one
// empty string, NSEC types sorted) decoding and encoding again changes nothing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    guard let first = try? DNSMessage(decoding: bytes) else { return 0 }
    guard let written = try? first.encoded(), let second = try? DNSMessage(decoding: written),
        let rewritten = try? second.encoded(), let third = try? DNSMessage(decoding: rewritten)
    else { fatalError("a decoded message does not encode and decode again") }
    guard second == third else { fatalError("encoding a decoded message is not stable") }
    return 0
}

@_cdecl("FuzzDNSMessage_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
