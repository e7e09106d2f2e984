import Testing
import UDPPatterns

@Suite struct SequenceNumberTests {
    @Test func comparesAcrossTheWrap() {
        #expect(SequenceNumber(0xFFFF_FFFF) < 0)
        #expect(!(SequenceNumber(0) < 0xFFFF_FFFF))
        #expect(SequenceNumber(0xFFFF_FFF0) < 5)
        #expect(SequenceNumber(1) < 2)
        #expect(!(SequenceNumber(2) < 1))
        #expect(!(SequenceNumber(7) < 7))
        #expect(SequenceNumber(0) < SequenceNumber(0x7FFF_FFFF))  // the farthest "ahead" there is
        #expect(SequenceNumber(0x8000_0001) < 0)  // one step further is behind
    }

    @Test func halfTheSpaceApartIsNeitherLess() {
        // RFC 1982 §3.2 leaves it undefined; neither order holds.
        let a = SequenceNumber(0)
        let b = SequenceNumber(0x8000_0000)
        #expect(!(a < b) && !(b < a) && a != b)
        #expect(a.distance(to: b) == -0x8000_0000)
    }

    @Test func distanceAndAdditionWrap() {
        #expect(SequenceNumber(0xFFFF_FFFE).distance(to: 1) == 3)
        #expect(SequenceNumber(1).distance(to: 0xFFFF_FFFE) == -3)
        #expect(SequenceNumber(0xFFFF_FFFF) + 1 == 0)
        #expect(SequenceNumber(0xFFFF_FFF0) + 0x20 == 0x10)
        #expect(SequenceNumber(3).advanced(by: -5) == 0xFFFF_FFFE)
        var number: SequenceNumber = 0xFFFF_FFFF
        number += 2
        #expect(number == 1)
        #expect(number.description == "1")
    }

    @Test func sortsAWindowThatStraddlesTheWrap() {
        let window: [SequenceNumber] = [2, 0xFFFF_FFFE, 0, 0xFFFF_FFFF, 1]
        #expect(window.sorted() == [0xFFFF_FFFE, 0xFFFF_FFFF, 0, 1, 2])
    }
}
