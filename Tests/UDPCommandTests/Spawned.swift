import CNamespaceTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `udp` binary built beside this test bundle (`swift build` puts every product in one folder).
let udpBinary: String = {
    if let path = ProcessInfo.processInfo.environment["UDP_BINARY"] { return path }
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return executable.deletingLastPathComponent().appendingPathComponent("udp").path
}()

/// A child process with its stdin, stdout and stderr on pipes; every wait has a deadline, and the child is
/// killed when this object goes away, so a failing test never leaves a server running or hangs.
final class Spawned: @unchecked Sendable {  // used from one test at a time
    let pid: pid_t
    private var stdinWrite: CInt
    private let stdoutRead: CInt
    private let stderrRead: CInt
    private var stdoutBuffer: [UInt8] = []
    private var stderrBuffer: [UInt8] = []
    private(set) var exitStatus: CInt?
    /// The child's peak resident set size in KiB as last seen (`VmHWM`, by ``residentHighWaterKiB``), sampled
    /// on every turn of ``wait(timeout:)`` until the child exits; nil if it was never seen. Not `wait4(2)`'s
    /// `ru_maxrss`: posix_spawn starts the child sharing this process's memory (CLONE_VM), and the kernel keeps
    /// that high-water mark, the test runner's, as the child's through its exec.
    private(set) var peakResidentKiB: Int?

    /// Starts `arguments[0]` (a path) with the rest as its arguments.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        var inPipe: [CInt] = [0, 0]
        var outPipe: [CInt] = [0, 0]
        var errPipe: [CInt] = [0, 0]
        // Close-on-exec from the start (pipe2, not pipe then fcntl): tests spawn in parallel, and a child spawned
        // by another thread between the two calls would inherit this child's stdin and keep it open, so closing
        // it here would never reach the child as end of file (python-zeroconf then never said goodbye, now and
        // then). dup2 clears the flag on the child's own 0, 1 and 2.
        guard close_on_exec_pipe(&inPipe) == 0, close_on_exec_pipe(&outPipe) == 0, close_on_exec_pipe(&errPipe) == 0
        else { throw POSIXError(.EMFILE) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        // A test runs on a thread that blocks nearly every signal, and a child inherits the mask: a daemon that
        // never unblocks SIGTERM (dnsmasq) would ignore the test's request to stop. Children start with none
        // blocked and every signal at its default, as from a shell.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        var allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var child: pid_t = 0
        let status = posix_spawn(&child, arguments[0], &actions, &attributes, argv, envp)
        close(inPipe[0])
        close(outPipe[1])
        close(errPipe[1])
        guard status == 0 else {
            close(inPipe[1])
            close(outPipe[0])
            close(errPipe[0])
            throw POSIXError(POSIXErrorCode(rawValue: status) ?? .ENOENT)
        }
        pid = child
        stdinWrite = inPipe[1]
        stdoutRead = outPipe[0]
        stderrRead = errPipe[0]
    }

    /// Starts the `udp` binary.
    convenience init(udp arguments: String...) throws { try self.init([udpBinary] + arguments) }

    /// `udp COMMAND --host 127.0.0.1 --port 0 ARGUMENTS…`: one of the CLI's servers, on loopback, on a port the
    /// kernel picks (read it with ``listeningPort(timeout:)``).
    convenience init(loopbackServer command: String, _ arguments: String...) throws {
        try self.init([udpBinary, command, "--host", "127.0.0.1", "--port", "0"] + arguments)
    }

    /// The setup of the relay tests for the request/reply patterns: `udp echo --framed --prefix 'ack: ' --stats`
    /// on loopback, behind a `udp relay` that injects `faults` (its flags). Send to `relayPort`.
    static func framedEchoBehindRelay(
        _ faults: String...
    ) throws -> (server: Spawned, relay: Spawned, relayPort: UInt16) {
        let server = try Spawned(loopbackServer: "echo", "--framed", "--prefix", "ack: ", "--stats")
        let serverPort = try server.listeningPort()
        let relay = try Spawned(
            [udpBinary, "relay", "--listen", "127.0.0.1:0", "--to", "127.0.0.1:\(serverPort)"] + faults
        )
        return (server, relay, try relay.listeningPort())
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: CInt = 0
            waitpid(pid, &status, 0)
        }
        closeStandardInput()
        close(stdoutRead)
        close(stderrRead)
    }

    func write(_ text: String) {
        var text = text
        text.withUTF8 { _ = Glibc.write(stdinWrite, $0.baseAddress, $0.count) }
    }

    /// Closes the child's stdin (once: a second close could hit a descriptor another test has just opened).
    func closeStandardInput() {
        guard stdinWrite >= 0 else { return }
        close(stdinWrite)
        stdinWrite = -1
    }

    /// Reads until a full line is on stdout, or the deadline passes (then nil).
    func readLine(timeout: Duration = .seconds(5)) -> String? {
        readLineBytes(timeout: timeout).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Reads until a full line is on stdout and returns its bytes as the child wrote them, without the newline
    /// (no decoding, so a test can check every byte); nil when the deadline passes first.
    func readLineBytes(timeout: Duration = .seconds(5)) -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        return Self.nextLine(of: stdoutRead, buffer: &stdoutBuffer, until: deadline, fill: Self.fill)
    }

    /// The child's peak resident set size so far in KiB (`VmHWM` in /proc/PID/status, which counts from its
    /// exec), while it runs; nil once it has exited (a zombie has none).
    var residentHighWaterKiB: Int? {
        guard exitStatus == nil, let kib = Self.residentHighWaterKiB(of: pid) else { return nil }
        peakResidentKiB = max(peakResidentKiB ?? 0, kib)
        return kib
    }

    /// `VmHWM` of process `pid` in KiB; nil when it has none (it has exited, or never was).
    static func residentHighWaterKiB(of pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        return line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
    }

    /// Reads stderr a line at a time until one satisfies `predicate` (the lines before it are consumed), or
    /// the deadline passes (then nil): how a test waits for a server's `--stats` line to say something.
    func readErrorLine(timeout: Duration = .seconds(10), where predicate: (String) -> Bool) -> String? {
        let deadline = ContinuousClock.now + timeout
        while let bytes = Self.nextLine(of: stderrRead, buffer: &stderrBuffer, until: deadline, fill: Self.fill) {
            let line = String(decoding: bytes, as: UTF8.self)
            if predicate(line) { return line }
        }
        return nil
    }

    private static func nextLine(
        of descriptor: CInt,
        buffer: inout [UInt8],
        until deadline: ContinuousClock.Instant,
        fill: (CInt, inout [UInt8], Duration) -> Bool
    ) -> [UInt8]? {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = Array(buffer[..<newline])
                buffer.removeFirst(newline + 1)
                return line
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero, fill(descriptor, &buffer, left) else { return nil }
        }
    }

    /// The port from the server's first line, `listening on udp/PORT`.
    func listeningPort(timeout: Duration = .seconds(10)) throws -> UInt16 {
        let line = try #require(readLine(timeout: timeout), "no first line from the server")
        #expect(line.hasPrefix("listening on udp/"), "first line was \(line)")
        return try #require(UInt16(line.dropFirst("listening on udp/".count)))
    }

    /// Waits for the child to exit and collects the rest of its output; kills it at the deadline.
    @discardableResult
    func wait(timeout: Duration = .seconds(10)) -> (status: CInt, stdout: String, stderr: String) {
        let result = waitBytes(timeout: timeout)
        return (
            result.status, String(decoding: result.stdout, as: UTF8.self),
            String(decoding: result.stderr, as: UTF8.self)
        )
    }

    /// ``wait(timeout:)`` with the rest of the output as the child wrote it, undecoded.
    func waitBytes(timeout: Duration = .seconds(10)) -> (status: CInt, stdout: [UInt8], stderr: [UInt8]) {
        let deadline = ContinuousClock.now + timeout
        while exitStatus == nil {
            var status: CInt = 0
            _ = residentHighWaterKiB
            if waitpid(pid, &status, WNOHANG) == pid {
                exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                break
            }
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                Issue.record("process \(pid) did not exit in time; killed")
                continue
            }
            _ = fill(stdoutRead, &stdoutBuffer, timeout: .milliseconds(10))
            _ = fill(stderrRead, &stderrBuffer, timeout: .milliseconds(1))
        }
        while fill(stdoutRead, &stdoutBuffer, timeout: .milliseconds(50)) {}
        while fill(stderrRead, &stderrBuffer, timeout: .milliseconds(50)) {}
        return (exitStatus!, stdoutBuffer, stderrBuffer)
    }

    func signal(_ number: CInt) { kill(pid, number) }

    /// Reads what is available within `timeout`; false at end of file or when nothing came.
    private func fill(_ descriptor: CInt, _ buffer: inout [UInt8], timeout: Duration) -> Bool {
        Self.fill(descriptor, &buffer, timeout)
    }

    private static func fill(_ descriptor: CInt, _ buffer: inout [UInt8], _ timeout: Duration) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = CInt(
            max(0, timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        )
        guard poll(&entry, 1, milliseconds) > 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return false }
        buffer += chunk[..<count]
        return true
    }
}

/// Runs `udp` with `arguments`, given as an array, to completion.
func runUDPArray(
    _ arguments: [String],
    timeout: Duration = .seconds(10)
) throws -> (status: CInt, stdout: String, stderr: String) {
    let process = try Spawned([udpBinary] + arguments)
    process.closeStandardInput()
    return process.wait(timeout: timeout)
}

/// Runs `udp` with `arguments` to completion.
func runUDP(
    _ arguments: String...,
    stdin: String? = nil,
    timeout: Duration = .seconds(10)
) throws
    -> (status: CInt, stdout: String, stderr: String)
{
    let process = try Spawned([udpBinary] + arguments)
    if let stdin { process.write(stdin) }
    process.closeStandardInput()
    return process.wait(timeout: timeout)
}

/// Checks the contract for bad input: a non-zero exit and exactly one line on stderr, starting `udp: `, with
/// no crash report.
func expectOneLineError(
    _ result: (status: CInt, stdout: String, stderr: String),
    containing fragment: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(result.status != 0, "exit status 0 for bad input", sourceLocation: sourceLocation)
    #expect(result.status < 128, "killed by a signal: \(result.status)", sourceLocation: sourceLocation)
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 1, "stderr was: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.hasPrefix("udp: "), "stderr was: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.contains(fragment), "stderr was: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(!result.stderr.contains("Fatal error"), sourceLocation: sourceLocation)
}
