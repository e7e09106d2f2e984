import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The README's first two commands, as a newcomer runs them: the tutorial's server, then its client in a second
/// terminal, which prints the server's answer. (The README's commands use port 9999; here the kernel picks one.)
@Suite("the first minute")
struct FirstMinuteTests {
    @Test("example-server answers example-client with ack: and the message")
    func serverAnswersClient() throws {
        let server = try Spawned([builtProduct("example-server"), "0"])
        defer {
            server.signal(SIGTERM)  // the tutorial's server runs until killed, as it does in a terminal
            _ = server.wait(timeout: .seconds(5))
        }
        let port = try server.listeningPort()
        let client = try Spawned([builtProduct("example-client"), "localhost:\(port)", "hi"])
        client.closeStandardInput()
        let result = client.wait()
        #expect(result.status == 0 && result.stdout == "ack: hi\n", "\(result)")
    }
}
