import Testing
import UDPPatterns

@Suite struct DatagramBudgetTests {
    @Test func presetsAndPayloadRoom() {
        #expect(DatagramBudget.internet.bytes == 1200 && DatagramBudget.internet.maximumPayload == 1184)
        #expect(DatagramBudget.ethernet.bytes == 1472 && DatagramBudget.ethernet.maximumPayload == 1456)
        #expect(DatagramBudget(bytes: 500, frameOverhead: 0).maximumPayload == 500)
        #expect(DatagramBudget.internet.description == "1200 bytes")
    }

    @Test func checkNamesTheFramedSize() {
        #expect(throws: Never.self) { try DatagramBudget.internet.check(payloadSize: 1184) }
        #expect(throws: DatagramBudget.Exceeded(size: 1201, budget: 1200)) {
            try DatagramBudget.internet.check(payloadSize: 1185)
        }
    }
}
