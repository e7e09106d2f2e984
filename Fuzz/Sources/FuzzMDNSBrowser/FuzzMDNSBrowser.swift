import FuzzDriver
import UDP
import UDPDNS
import UDPDiscovery

// A sequence of datagrams from a few sources, as a hostile link sends them, into one small cache and a browser
// of every type: never a crash, and every bound holds after every datagram. The input is a list of
// [source byte, time step byte, length (2 bytes), datagram] records.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    var cache = MDNSCache(maximumRecords: 64, maximumBytes: 8_192)
    var browser = DNSSDBrowser(types: nil, maximumTypes: 8, maximumTypeBytes: 256, maximumInstances: 16)
    var now = MonotonicInstant.zero
    var position = 0
    while position + 4 <= bytes.count {
        let source = IPAddress.v4(IPv4Address(198, 18, 0, bytes[position] & 0x07))
        now = now + .milliseconds(100 * Int64(bytes[position + 1]))
        let length = Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
        let end = min(bytes.count, position + 4 + length)
        let datagram = bytes[(position + 4)..<end]
        position = end
        var changes = cache.expire(now: now)
        if let decoded = try? DNSMessage.decodingLeniently(datagram) {
            changes += cache.insert(decoded.message.answers + decoded.message.additionals, from: source, at: now)
        }
        _ = browser.apply(changes, cache: cache)
        _ = browser.questions(cache: cache)
        guard cache.entries.count <= cache.maximumRecords, cache.bytes <= cache.maximumBytes,
            browser.types.count <= browser.maximumTypes, browser.typeBytes <= browser.maximumTypeBytes,
            browser.instances.count <= browser.maximumInstances,
            browser.instanceBytes <= browser.maximumInstanceBytes
        else { fatalError("a bound was passed") }
    }
    return 0
}

@_cdecl("FuzzMDNSBrowser_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
