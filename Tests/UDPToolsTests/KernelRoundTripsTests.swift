import Testing
import UDP

@testable import UDPTools

// Pairing send stamps (numbered by the socket from 0) with replies' receive stamps (by probe sequence).
@Suite struct KernelRoundTripsTests {
    @Test func aSendStampAndAReceiveStampMakeARoundTrip() {
        var trips = KernelRoundTrips(capacity: 8)
        trips.sent(sequence: 1)
        trips.sent(sequence: 2)
        #expect(trips.roundTrip(sequence: 1, receivedAt: 5_000) == .missing, "no send stamp read yet")
        trips.record(SendTimestamp(id: 1, time: WallClockTime(nanosecondsSince1970: 2_000)))
        trips.record(SendTimestamp(id: 0, time: WallClockTime(nanosecondsSince1970: 1_000)))
        #expect(trips.roundTrip(sequence: 1, receivedAt: 1_250) == .roundTrip(250))
        #expect(trips.roundTrip(sequence: 2, receivedAt: 2_400) == .roundTrip(400))
    }

    @Test func aReplyStampedBeforeItsProbeIsAClockStepNeverAFigure() {
        var trips = KernelRoundTrips(capacity: 8)
        trips.sent(sequence: 1)
        trips.record(SendTimestamp(id: 0, time: WallClockTime(nanosecondsSince1970: 10_000)))
        #expect(trips.roundTrip(sequence: 1, receivedAt: 9_999) == .clockStep)
    }

    @Test func stampsForNumbersNeverUsedOrLongGoneAreIgnored() {
        var trips = KernelRoundTrips(capacity: 4)
        trips.record(SendTimestamp(id: 0, time: WallClockTime(nanosecondsSince1970: 1)))  // nothing sent yet
        for sequence in 1...10 { trips.sent(sequence: UInt64(sequence)) }
        // Probe 3, whose slot probe 7 has taken since.
        trips.record(SendTimestamp(id: 2, time: WallClockTime(nanosecondsSince1970: 7)))
        #expect(trips.roundTrip(sequence: 7, receivedAt: 100) == .missing)
        trips.record(SendTimestamp(id: 9, time: WallClockTime(nanosecondsSince1970: 50)))
        #expect(trips.roundTrip(sequence: 10, receivedAt: 100) == .roundTrip(50))
        trips.record(SendTimestamp(id: 10, time: WallClockTime(nanosecondsSince1970: 60)))  // not sent yet
        #expect(trips.roundTrip(sequence: 10, receivedAt: 100) == .roundTrip(50))
    }
}
