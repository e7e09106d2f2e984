import Foundation
import Testing
import UDP

#if canImport(Glibc)
import Glibc
#endif

/// Servers sleep until a datagram or a stop request arrives: no thread wakes on a timer to look at a flag
/// (which cost about 5 wake-ups a second per thread, and up to 200 ms to stop).
@Suite struct IdleServerTests {
    @Test(
        "an idle server does not wake, and SIGTERM or SIGINT ends it at once with its summary",
        arguments: [
            ["echo"], ["echo", "--verbose"], ["echo", "--framed", "--verbose"],
            ["echo", "--workers", "2", "--verbose"],
            ["echo", "--no-gro", "--verbose"], ["listen"],
        ] as [[String]]
    )
    func idleServer(command: [String]) throws {
        let server = try Spawned([udpBinary] + command + ["--host", "127.0.0.1", "--port", "0"])
        let port = try server.listeningPort()
        let socket = try UDPSocket(family: .inet)
        // A framed echo answers only framed requests; the test needs traffic, not a reply.
        try socket.send(Array("hello".utf8), to: .loopbackV4(port: port))
        if command.contains("--framed") {
            // Not a framed request: named on stderr. Awaited, so that the server is done with it before the quiet
            // window opens (handling it inside the window was a wake-up the count then blamed on the server).
            #expect(server.readErrorLine { $0.contains("not a framed request") } != nil)
        } else if command.first == "listen" {
            #expect(server.readLine()?.hasSuffix("#1: hello") == true)
        } else {
            #expect(try socket.receive(timeout: .seconds(5))?.payload == Array("hello".utf8))
        }
        try expectIdle(server)
        server.signal(command == ["listen"] ? SIGINT : SIGTERM)
        let result = server.wait(timeout: .seconds(5))
        #expect(result.status == 0)
        if command.contains("--verbose") { #expect(result.stderr.contains("received 1")) }
        if command == ["listen"] { #expect(result.stdout.contains("--- 1 datagram from 1 peer ---")) }
    }

    @Test("an idle relay with a client mapping does not wake either")
    func idleRelay() throws {
        let echo = try Spawned(loopbackServer: "echo")
        let echoPort = try echo.listeningPort()
        let relay = try Spawned(udp: "relay", "--listen", "127.0.0.1:0", "--to", "127.0.0.1:\(echoPort)")
        let port = try relay.listeningPort()
        let socket = try UDPSocket(family: .inet)
        try socket.send(Array("hi".utf8), to: .loopbackV4(port: port))
        #expect(try socket.receive(timeout: .seconds(5))?.payload == Array("hi".utf8))
        try expectIdle(relay)
        relay.signal(SIGTERM)
        let result = relay.wait(timeout: .seconds(5))
        #expect(result.status == 0)
        #expect(result.stderr.contains("clients: 1 active"))
    }

    /// Over 2 seconds of quiet, the process's threads together sleep at most once each (a wake-up that was
    /// already on its way when the window opened): a timer-driven loop would show about 10 a thread.
    private func expectIdle(_ server: Spawned) throws {
        let before = try voluntarySwitches(server.pid)
        Thread.sleep(forTimeInterval: 2)  // the window being measured, not a wait for an event
        let after = try voluntarySwitches(server.pid)
        // Under Thread Sanitizer (Scripts/tsan.sh sets TSAN_OPTIONS) the runtime adds a thread of its own that
        // wakes on a timer: the count would measure the sanitizer, not the server.
        guard ProcessInfo.processInfo.environment["TSAN_OPTIONS"] == nil else { return }
        #expect(
            after.switches - before.switches <= after.threads,
            "\(after.threads) threads woke \(after.switches - before.switches) times"
        )
    }

    /// The sum of `voluntary_ctxt_switches` over the process's threads, and how many threads it has.
    private func voluntarySwitches(_ pid: pid_t) throws -> (switches: Int, threads: Int) {
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        var total = 0
        for task in tasks {
            let status = try String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8)
            let line = status.split(separator: "\n").first { $0.hasPrefix("voluntary_ctxt_switches:") }
            total += Int(line?.split(separator: "\t").last.map(String.init) ?? "") ?? 0
        }
        return (total, tasks.count)
    }
}
