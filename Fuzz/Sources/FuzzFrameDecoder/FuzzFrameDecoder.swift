import FuzzDriver
import UDPPatterns

// Any bytes decode to a frame or are refused with a FrameError: never a crash, never an out-of-bounds read.
// What decodes must encode back to the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    if let frame = try? Frame(decoding: bytes) {
        guard let again = try? frame.encoded(), again == bytes else {
            fatalError("a decoded frame does not encode back to its bytes")
        }
    }
    return 0
}

@_cdecl("FuzzFrameDecoder_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
