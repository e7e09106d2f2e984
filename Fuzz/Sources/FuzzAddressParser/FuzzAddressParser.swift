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

// SwiftPM links an executable's entry point under this name; hand control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("FuzzAddressParser_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv, fuzz)
}
