import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

// Each pitfall program under Examples/Pitfalls runs here as a user would run it, and what it prints is checked:
// the failure shown, then the fix, an exit status of 0, all within a few seconds.

/// A product built beside this test bundle, as ``udpBinary`` is (`swift build` puts every product in one folder).
func builtProduct(_ name: String) -> String {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return executable.deletingLastPathComponent().appendingPathComponent(name).path
}

/// Runs the pitfall program `name` (after `launcher`, such as `setpriv` and its arguments) to completion and
/// checks the contract every one of them keeps: exit 0, nothing on stderr, a "problem:" section before a "fix:"
/// section, and done within `limit`.
func runPitfall(
    _ name: String,
    launcher: [String] = [],
    limit: Duration = .seconds(10),
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> String {
    let start = ContinuousClock.now
    let process = try Spawned(launcher + [builtProduct(name)])
    process.closeStandardInput()
    let result = process.wait(timeout: limit + .seconds(5))
    let elapsed = ContinuousClock.now - start
    #expect(result.status == 0, "\(name) exited \(result.status):\n\(result.stdout)", sourceLocation: sourceLocation)
    #expect(result.stderr.isEmpty, "\(name) wrote to stderr: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(elapsed < limit, "\(name) took \(elapsed)", sourceLocation: sourceLocation)
    let problem = try #require(result.stdout.range(of: "\nproblem: "), "no problem section:\n\(result.stdout)")
    let fix = try #require(result.stdout.range(of: "\nfix: "), "no fix section:\n\(result.stdout)")
    #expect(problem.lowerBound < fix.lowerBound, "the fix comes before the problem", sourceLocation: sourceLocation)
    return result.stdout
}

/// The number in the first match of `pattern`'s first capture group in `text`, such as a time in seconds.
func number(in text: String, after pattern: String) throws -> Double {
    let expression = try NSRegularExpression(pattern: pattern)
    let range = NSRange(text.startIndex..., in: text)
    let match = try #require(expression.firstMatch(in: text, range: range), "no match for \(pattern) in:\n\(text)")
    let capture = try #require(Range(match.range(at: 1), in: text))
    return try #require(Double(text[capture]))
}

@Suite struct PitfallProgramTests {
    @Test func timeoutsHangUntilTheWatchdogThenGiveUpAtTheDeadline() throws {
        let output = try runPitfall("pitfall-timeouts")
        // The hang lasts until the watchdog ends it, about a second: not less.
        let hang = try number(in: output, after: #"receive\(\) returned after ([0-9.]+) s, only because the watchdog"#)
        #expect(hang >= 0.9)
        #expect(output.contains("watchdog: 1.0 seconds passed and the client is still inside receive()"))
        let deadline = try number(in: output, after: #"receive\(timeout: 0.5 s\) returned nil after ([0-9.]+) s"#)
        #expect(deadline >= 0.4 && deadline < 2)
        let option = try number(in: output, after: #"receive\(\) threw after ([0-9.]+) s: receive: timed out"#)
        #expect(option >= 0.2 && option < 2)
    }

    @Test func truncationIsReportedWithTheRealLengthThenAvoided() throws {
        let output = try runPitfall("pitfall-truncation")
        #expect(output.contains("512 bytes kept, isTruncated true, length 1400: the last 888 bytes are gone"))
        #expect(output.contains("the bytes kept are the datagram's first 512: true"))
        #expect(output.contains("the next receive(timeout: 0.2 s) found nothing"))
        #expect(
            output.contains(
                "receive(maximumSize: 65535): 1400 bytes, isTruncated false, identical to what was sent: true"
            )
        )
    }
}
