import Testing
import UDP
import UDPNTP

@Suite struct SNTPProbeTextTests {
    @Test func aFailureSaysWhatHappened() throws {
        #expect(SNTPProbe.Failure.noReply(timeout: .seconds(1)).description == "no reply within 1.0 s")
        #expect(SNTPProbe.Failure.noReply(timeout: .milliseconds(500)).description == "no reply within 0.5 s")
        #expect(SNTPProbe.Failure.kissOfDeath(KissCode(referenceID: 0x4445_4E59)).description == "kiss-o'-death DENY")
        #expect(
            SNTPProbe.Failure.unsent(tries: 4).description == "the request could not be sent past 4 ICMP errors"
        )
    }
}
