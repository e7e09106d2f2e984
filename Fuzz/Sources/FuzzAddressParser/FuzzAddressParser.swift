import FuzzDriver
import UDP

// Every input must parse or be refused with a UDPError: never crash, never read out of bounds. What parses
// must print back to text that parses to the same address.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    // Interface names in the scope (`%eth0`) are looked up with if_nametoindex: harmless, local.
    if let address = try? SocketAddress(parsing: text) {
        let printed = address.description
        guard let again = SocketAddress(printed), again == address else {
            fatalError("'\(text)' parsed to \(address), whose text '\(printed)' does not parse back to it")
        }
    }
    _ = IPAddress(text)
    _ = try? SocketAddress.parsePort(text)
    return 0
}

@_cdecl("FuzzAddressParser_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
