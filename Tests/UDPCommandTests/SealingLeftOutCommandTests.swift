#if !Sealing
import Testing

/// Whether this build of udp has sealed datagrams: not without the package trait `Sealing` (a build with it has
/// KeyCommandTests.swift instead of this file).
let sealingIsBuiltIn = false

/// A build without the package trait `Sealing`: every sealed command is refused in one line that says how to
/// build with it, before any socket opens.
@Suite("keys, in a build without sealing")
struct SealingLeftOutCommandTests {
    @Test(
        "keygen and every --key-file are refused, naming the build that has them",
        arguments: [
            ["keygen"],
            ["echo", "--port", "0", "--key-file", "/dev/null"],
            ["send", "127.0.0.1:9", "hi", "--key-file", "/dev/null"],
            ["listen", "--port", "0", "--key-file", "/dev/null"],
            ["ping", "127.0.0.1:9", "--key-file", "/dev/null"],
            ["bench", "127.0.0.1:9", "--key-file", "/dev/null"],
        ]
    )
    func refused(arguments: [String]) throws {
        let result = try runUDPArray(arguments)
        expectOneLineError(result, containing: "swift build -c release --traits Sealing")
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty, "nothing ran: \(result.stdout)")
    }
}
#endif
