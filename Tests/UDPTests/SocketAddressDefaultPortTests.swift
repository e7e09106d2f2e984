import Testing
import UDP

@Suite struct SocketAddressDefaultPortTests {
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1:123"), ("127.0.0.1:9", "127.0.0.1:9"), ("::1", "[::1]:123"),
        ("fd75:6470:2::2", "[fd75:6470:2::2]:123"), ("[::1]", "[::1]:123"), ("[::1]:5", "[::1]:5"),
    ])
    func theDefaultPortGoesWhereTheTextNamesNone(text: String, expected: String) throws {
        #expect(try SocketAddress(resolving: text, defaultPort: 123).description == expected)
    }
}
