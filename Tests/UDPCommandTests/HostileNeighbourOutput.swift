import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Where and why `line` (one line of stdout, without its newline) could act on a terminal, or nil when it could
/// not: a C0 control byte (ESC among them), DEL, a C1 control written in UTF-8 (0xC2 0x80-0x9F), or bytes that are
/// not UTF-8 (a lone 0x9B is CSI to a terminal in 8-bit mode). The description shows the bytes around it.
func terminalOffence(in line: [UInt8]) -> String? {
    var found: (offset: Int, what: String)?
    for (index, byte) in line.enumerated() {
        if byte < 0x20 || byte == 0x7F {
            found = (index, "control byte 0x\(String(byte, radix: 16))")
        } else if byte == 0xC2, index + 1 < line.count, (0x80...0x9F).contains(line[index + 1]) {
            found = (index, "C1 control 0xc2 0x\(String(line[index + 1], radix: 16))")
        }
        if found != nil { break }
    }
    if found == nil, String(validating: line, as: UTF8.self) == nil { found = (0, "bytes that are not UTF-8") }
    guard let found else { return nil }
    let context = line[max(0, found.offset - 60)..<min(line.count, found.offset + 40)]
    let shown = context.map { (0x20..<0x7F).contains($0) ? String(UnicodeScalar($0)) : "<\(String($0, radix: 16))>" }
    return "\(found.what) at byte \(found.offset): …\(shown.joined())…"
}

/// A command under a flood, with its stdout read on a thread of its own as it comes (a full pipe would stop the
/// command, and the test would measure nothing), every line checked byte by byte with ``terminalOffence(in:)``,
/// and its peak resident set size sampled with each line and at least every 100 ms until it exits.
final class FloodedCommand: @unchecked Sendable {  // the mutable fields are read and written under `condition`
    let label: String
    private let process: Spawned
    private let condition = NSCondition()
    /// Every line read, with when it was read.
    private var lines: [(text: String, at: ContinuousClock.Instant)] = []
    /// Set by the test to stop the reader; set by the reader once it has stopped (asked, or the command exited).
    private var stopping = false
    private var stopped = false
    private var peakKiB: Int?
    /// When the reader last sampled the peak RSS (only the reader's thread uses it).
    private var lastSample = ContinuousClock.now
    /// Lines and bytes read, and the first few lines that could act on a terminal (with why).
    private(set) var lineCount = 0
    private(set) var byteCount = 0
    private(set) var offences: [String] = []
    private(set) var offendingLines = 0

    /// Starts reading `process`'s stdout; `label` names it in failures.
    init(_ label: String, _ process: Spawned) {
        self.label = label
        self.process = process
        // Weakly held: a test that ends early (a `try` that throws) drops this, and Spawned's deinit then kills the
        // command; the reader ends with it.
        let thread = Thread { [weak self] in
            while true {
                guard let self, self.readOnce() else { return }
            }
        }
        thread.start()
    }

    /// Reads a line (or waits 100 ms for one) and, every 100 ms, samples the peak RSS; false once the reader
    /// should stop. Sampling with every line would make this reader the flooded command's bottleneck: a
    /// command that prints fast would wait on a full pipe, not on its own work.
    private func readOnce() -> Bool {
        let line = process.readLineBytes(timeout: .milliseconds(100))
        let now = ContinuousClock.now
        let sample = line == nil || now - lastSample >= .milliseconds(100)
        // nil once the command has exited: a zombie has no VmHWM.
        let highWater = sample ? Spawned.residentHighWaterKiB(of: process.pid) : nil
        if sample { lastSample = now }
        condition.lock()
        defer { condition.unlock() }
        if let line { record(line, at: now) }
        if let highWater { peakKiB = max(peakKiB ?? 0, highWater) }
        guard stopping || (line == nil && highWater == nil) else { return true }
        stopped = true
        condition.broadcast()
        return false
    }

    /// Counts and checks one line; the caller holds `condition`.
    private func record(_ line: [UInt8], at instant: ContinuousClock.Instant) {
        lineCount += 1
        byteCount += line.count + 1
        if let offence = terminalOffence(in: line) {
            offendingLines += 1
            if offences.count < 3 { offences.append(offence) }
        }
        lines.append((String(decoding: line, as: UTF8.self), instant))
        condition.broadcast()
    }

    /// Waits until a line read so far (from the first) satisfies `predicate`, or `timeout` passes (then nil);
    /// returns it with when it was read.
    func firstLine(
        timeout: Duration,
        where predicate: (String) -> Bool
    ) -> (text: String, at: ContinuousClock.Instant)? {
        let deadline = Date().addingTimeInterval(
            Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        )
        var next = 0
        condition.lock()
        defer { condition.unlock() }
        while true {
            while next < lines.count {
                if predicate(lines[next].text) { return lines[next] }
                next += 1
            }
            if stopped || !condition.wait(until: deadline) { return nil }
        }
    }

    /// Every line of stdout read so far, newline-terminated.
    var stdout: String {
        condition.lock()
        defer { condition.unlock() }
        return lines.map { $0.text + "\n" }.joined()
    }

    /// The peak resident set size so far in KiB, while the command runs (nil once it has exited).
    var residentHighWaterKiB: Int? { Spawned.residentHighWaterKiB(of: process.pid) }

    /// Whether the command is still running (it should be, under any flood).
    var isRunning: Bool { residentHighWaterKiB != nil }

    /// Stops the reader, sends SIGINT, and waits for the exit, checking the rest of stdout as every line
    /// before it. Returns the exit status, stderr and the peak resident set size of its whole life in KiB.
    func interrupt(timeout: Duration = .seconds(10)) -> (status: CInt, stderr: String, peakKiB: Int) {
        condition.lock()
        stopping = true
        while !stopped { condition.wait() }
        condition.unlock()
        process.signal(SIGINT)
        return collect(timeout: timeout)
    }

    /// Waits for the command to exit by itself (killed at `timeout`), then as ``interrupt(timeout:)``.
    func finish(timeout: Duration) -> (status: CInt, stderr: String, peakKiB: Int) {
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds))
        condition.lock()
        while !stopped, condition.wait(until: deadline) {}
        stopping = true
        while !stopped { condition.wait() }
        condition.unlock()
        return collect(timeout: .seconds(5))
    }

    private func collect(timeout: Duration) -> (status: CInt, stderr: String, peakKiB: Int) {
        let result = process.waitBytes(timeout: timeout)
        condition.lock()
        defer { condition.unlock() }
        for line in result.stdout.split(separator: 10, omittingEmptySubsequences: false) where !line.isEmpty {
            record(Array(line), at: .now)
        }
        let peak = max(peakKiB ?? 0, process.peakResidentKiB ?? 0)
        return (result.status, String(decoding: result.stderr, as: UTF8.self), peak == 0 ? .max : peak)
    }

    /// Expects that no line of stdout could act on a terminal.
    func expectNoControlBytes(sourceLocation: SourceLocation = #_sourceLocation) {
        condition.lock()
        defer { condition.unlock() }
        #expect(
            offendingLines == 0,
            "\(label): \(offendingLines) of \(lineCount) lines carry bytes a terminal acts on; first: \(offences)",
            sourceLocation: sourceLocation
        )
    }
}

/// Expects `stderr` (a command's, run with `--stats`) to count, by reason, what the neighbour sent it that it
/// dropped: a count above zero of `malformed` datagrams (the neighbour sends them in every scenario), and with
/// `refusals`, of table entries refused or evicted at a bound (in either order: "12 refused", "typesRefused: 12").
func expectDropCounts(
    _ label: String,
    stderr: String,
    refusals: Bool,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let text = stderr.lowercased()
    #expect(
        text.contains(/[1-9][0-9]* malformed|malformed[:= ]+[1-9]/),
        "\(label) --stats counted no malformed datagram; stderr: \(stderr.suffix(2_000))",
        sourceLocation: sourceLocation
    )
    if refusals {
        let reason = "(refus|evict|drop|full|limit|quota|overflow)"
        #expect(
            text.contains(try! Regex("[1-9][0-9]* [a-z ]*\(reason)|\(reason)[a-z]*[:= ]+[1-9]")),
            "\(label) --stats counted nothing refused or evicted at a bound; stderr: \(stderr.suffix(2_000))",
            sourceLocation: sourceLocation
        )
    }
}
