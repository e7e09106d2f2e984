import FuzzDriver
import UDPSeal

// Any bytes given to the opener are opened or refused with a counted rejection: never a crash. A fixed key
// cannot be guessed by the fuzzer, so this explores the header checks, lengths and the tag path.
nonisolated(unsafe) var opener = Opener(keys: [SealKey.generate(id: 1), SealKey.generate(id: 2)])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let before = opener.counters.rejected
    if (try? opener.open(bytes)) == nil, opener.counters.rejected != before + 1 {
        fatalError("a refused datagram was not counted")
    }
    return 0
}

@_cdecl("FuzzSealedEnvelope_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
