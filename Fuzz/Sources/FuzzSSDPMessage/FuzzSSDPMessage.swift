import FuzzDriver
import UDPDiscovery

// Any bytes parse as an SSDP message or are refused with an SSDPError: never a crash. What parses, written out
// and parsed again, is the same message.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    guard let message = try? SSDPMessage(parsing: bytes) else { return 0 }
    guard let again = try? SSDPMessage(parsing: message.encoded), again == message else {
        fatalError("a parsed SSDP message does not survive being written out and parsed again")
    }
    return 0
}

@_cdecl("FuzzSSDPMessage_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
