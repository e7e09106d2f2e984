import Testing
import UDPPatterns

@Suite struct TextTests {
    @Test func secondsAreRoundedToTheMillisecond() {
        #expect(NumberFormat.seconds(.seconds(2)) == "2")
        #expect(NumberFormat.seconds(.milliseconds(500)) == "0.5")
        // 0.3 + 0.6 + 1.2 s: 2.0999… in binary, 2.1 as a person adds them.
        #expect(NumberFormat.seconds(.seconds(0.3) + .seconds(0.6) + .seconds(1.2)) == "2.1")
    }

    @Test func networkTextIsEscapedOnATerminalAndInJSON() {
        let text = NetworkText(bytes: Array("a\u{1B}[2J\n".utf8) + [0xFF])
        #expect(text.description == "a\\x1b[2J\\n\\xff")
        #expect(text.json == "\"a\\u001b[2J\\n\u{FFFD}\"")
        #expect(NetworkText("plain").description == "plain")
    }

    @Test func aJSONObjectKeepsItsKeysInOrder() {
        var object = JSONObject()
        object.add("b", 1)
        object.add("a", nil as String?)
        object.add("c", 0.25, decimals: 3)
        #expect(object.text == "{\"b\": 1, \"a\": null, \"c\": 0.25}")
    }
}
