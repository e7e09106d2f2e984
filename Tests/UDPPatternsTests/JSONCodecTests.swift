import Testing
import UDPPatterns

@Suite struct JSONCodecTests {
    let codec = JSONCodec()

    @Test func roundTripsANestedStruct() throws {
        let reading = Reading()
        #expect(try codec.decode(Reading.self, from: codec.encode(reading)) == reading)
    }

    @Test func isCompactWithSortedKeys() throws {
        struct Point: Codable { var y = 2, x = 1, path = "/a" }
        #expect(String(decoding: try codec.encode(Point()), as: UTF8.self) == #"{"path":"/a","x":1,"y":2}"#)
    }

    @Test func refusesMessagesOverTheBudgetNamingBothSizes() throws {
        let text = String(repeating: "x", count: 1812)  // 1814 bytes of JSON with its quotes
        let error = #expect(throws: DatagramBudget.Exceeded.self) { try codec.encode(text) }
        #expect(error?.description == "message of 1830 bytes exceeds the datagram budget of 1200 bytes")
        #expect(try JSONCodec(budget: DatagramBudget(bytes: 2000)).encode(text).count == 1814)
    }

    @Test func garbageGivesADecodingError() {
        for garbage in [bytes("{"), bytes("not json"), [0xFF, 0xFE], [], bytes(#"{"x": "#)] {
            #expect(throws: DecodingError.self) { try codec.decode(Reading.self, from: garbage) }
        }
    }
}
