import FuzzDriver
import UDP
import UDPNTP

// Any bytes decode as an NTP header or are too short: never a crash. What decodes, written out and decoded
// again, is the same packet; judged as a reply and measured as a sample, it never traps either (timestamps
// anywhere in their range, differences across era boundaries).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    guard let packet = NTPPacket(decoding: bytes) else { return 0 }
    guard NTPPacket(decoding: packet.encoded) == packet else {
        fatalError("a decoded NTP packet does not survive being written out and decoded again")
    }
    let request = SNTPRequest(nonce: packet.originTimestamp.rawValue)
    if case .reply(let reply) = request.check(packet) {
        let sample = NTPSample(
            reply: reply,
            sentAt: WallClockTime(nanosecondsSince1970: 1_700_000_000_000_000_000),
            receivedAt: WallClockTime(nanosecondsSince1970: 1_700_000_000_000_100_000)
        )
        precondition(sample.delay >= .zero)
    }
    _ = packet.referenceIDText
    return 0
}

@_cdecl("FuzzNTPPacket_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
