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
    let problem = try #require(
        result.stdout.range(of: "\nproblem: "),
        "no problem section:\n\(result.stdout)",
        sourceLocation: sourceLocation
    )
    let fix = try #require(
        result.stdout.range(of: "\nfix: "),
        "no fix section:\n\(result.stdout)",
        sourceLocation: sourceLocation
    )
    #expect(problem.lowerBound < fix.lowerBound, "the fix comes before the problem", sourceLocation: sourceLocation)
    return result.stdout
}

/// Whether a user other than the owner may run the file at `path`: every folder on the way and the file itself
/// have the execute bit for others.
func othersMayRun(_ path: String) -> Bool {
    var prefix = ""
    for component in path.split(separator: "/") {
        prefix += "/\(component)"
        var status = stat()
        guard stat(prefix, &status) == 0, status.st_mode & S_IXOTH != 0 else { return false }
    }
    return true
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

    @Test func largeDatagramsAreRefusedThenChunked() throws {
        let output = try runPitfall("pitfall-large-datagrams")
        #expect(output.contains("datagram of 65536 bytes is larger than the maximum of 65507 bytes (the IPv4 maximum)"))
        #expect(
            output.contains(
                "datagram of 65527 bytes is larger than the maximum of 65488 bytes (path MTU 65536) (EMSGSIZE)"
            ),
            "no EMSGSIZE over ::1 (is IPv6 off?)"
        )
        #expect(output.contains("65527 bytes arrived whole here"))
        #expect(output.contains("the 65536 bytes as 45 datagrams of at most 1472 bytes"))
        #expect(output.contains("all 45 arrived, reassembled identical: true"))
    }

    @Test(.enabled(if: getuid() == 0, "network namespaces need root"))
    func largeDatagramsFragmentOnAnEthernetLinkInNamespaces() throws {
        let output = try runPitfall("pitfall-large-datagrams")
        #expect(output.contains("pathMTU 1500, so 1472 bytes fit one datagram"))
        #expect(output.contains("4000 bytes with the default settings left as 3 IP fragments; 4000 bytes arrived"))
        #expect(output.contains("65507 bytes with the default settings left as 45 IP fragments; 65507 bytes arrived"))
        #expect(
            output.contains(
                "4000 bytes with Don't Fragment: send: datagram of 4000 bytes is larger than the maximum of 1472 bytes "
                    + "(path MTU 1500) (EMSGSIZE)"
            )
        )
        #expect(output.contains("with Don't Fragment: 0 IP fragments, reassembled identical: true"))
        #expect(output.contains("namespaces deleted"))
        // The program's own namespaces, named after its process id, are gone.
        let pid = Int(try number(in: output, after: #"created pitfall-mtu-([0-9]+)-a"#))
        for side in ["a", "b"] { #expect(access("/var/run/netns/pitfall-mtu-\(pid)-\(side)", F_OK) != 0) }
    }

    /// setpriv (util-linux) drops root for one run, so the fallback that most users see is tested too.
    @Test(
        .enabled(if: getuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0, "dropping root needs root and setpriv"),
        .enabled(
            if: othersMayRun(builtProduct("pitfall-large-datagrams")),
            "the build folder is closed to other users"
        )
    )
    func largeDatagramsSayWhatTheNamespacePartWouldShowWithoutRoot() throws {
        let output = try runPitfall(
            "pitfall-large-datagrams",
            launcher: ["/usr/bin/setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
        )
        #expect(output.contains("skipped: it needs root, to create network namespaces. As root, this part"))
        #expect(output.contains("all 45 arrived, reassembled identical: true"))
        #expect(!output.contains("created pitfall-mtu-"))
    }

    @Test func unclosedSocketsLeakUntilEMFILEThenCloseThemselves() throws {
        let output = try runPitfall("pitfall-unclosed-sockets")
        let baseline = try number(in: output, after: #"descriptors open: ([0-9]+)"#)
        #expect(try number(in: output, after: #"and no close\(fd\): ([0-9]+)"#) == baseline + 100)
        #expect(output.contains("more: too many open files (EMFILE)"))
        #expect(try number(in: output, after: #"leaked descriptors: ([0-9]+) open again"#) == baseline)
        #expect(try number(in: output, after: #"UDPSocket\(family: .inet\)`: ([0-9]+)"#) == baseline)
        #expect(try number(in: output, after: #"no EMFILE, ([0-9]+) open"#) == baseline)
        #expect(try number(in: output, after: #"reports its error: ([0-9]+) open"#) == baseline + 1)
        #expect(try number(in: output, after: #"after `try socket.close\(\)` ([0-9]+)"#) == baseline)
    }

    @Test func clientBindClashesOnAFixedPortThenLetsTheKernelChoose() throws {
        let output = try runPitfall("pitfall-client-bind")
        let fixed = try number(in: output, after: #"first copy: bind\(127\.0\.0\.1:([0-9]+)\) succeeded"#)
        #expect(output.contains("second copy: bind 127.0.0.1:\(Int(fixed)): address already in use"))
        #expect(output.contains("client without bind(): local address 0.0.0.0:0 until its first send"))
        let ephemeral = try number(
            in: output,
            after: #"client without bind\(\) at 0\.0\.0\.0:([0-9]+): reply "ack: hello""#
        )
        #expect(ephemeral > 0)
        let a = try number(in: output, after: #"client a at 127\.0\.0\.1:([0-9]+): reply "ack: hello""#)
        let b = try number(in: output, after: #"client b at 127\.0\.0\.1:([0-9]+): reply "ack: hello""#)
        #expect(a != b && a > 0 && b > 0)
    }

    @Test func spoofedRepliesAreBelievedThenRejectedWhenSealed() throws {
        let output = try runPitfall("pitfall-spoofing")
        try expectSpoofingPitfall(output)
        if getuid() == 0 {
            // The raw socket's forgery carries the server's exact address and port, and still fails to open.
            #expect(output.contains("checking IP and port, accepted it from 127.0.0.1:"))
            #expect(output.contains("(same as the server: true)"))
            #expect(output.contains("plain text forged with the server's address, from 127.0.0.1:"))
            #expect(output.contains("1 opened, 5 rejected"))
        }
    }

    @Test(
        .enabled(if: getuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0, "dropping root needs root and setpriv"),
        .enabled(if: othersMayRun(builtProduct("pitfall-spoofing")), "the build folder is closed to other users")
    )
    func spoofingWithoutRootSaysWhatTheForgeryWouldShow() throws {
        let output = try runPitfall(
            "pitfall-spoofing",
            launcher: ["/usr/bin/setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
        )
        try expectSpoofingPitfall(output)
        #expect(output.contains("(as root, this program forges the server's exact address with a raw socket"))
        #expect(!output.contains("forged with the server's address"))
        #expect(output.contains("1 opened, 4 rejected"))
    }

    @Test func blockingAndAsyncReadersLoseAReplyThenOneOwnerRoutesIt() throws {
        let output = try runPitfall("pitfall-blocking-and-async")
        let problem = try #require(output.range(of: "\nproblem: "))
        let fix = try #require(output.range(of: "\nfix: "))
        let problemSection = output[problem.upperBound..<fix.lowerBound]
        #expect(problemSection.contains(#"event loop: read "reply to request 1", which is no event: dropped"#))
        let waited = try number(
            in: String(problemSection),
            after: #"receive\(timeout: 0.5 s\) found nothing after ([0-9.]+) s"#
        )
        #expect(waited >= 0.4)
        let fixSection = output[fix.lowerBound...]
        #expect(fixSection.contains(#"owner: event "event: door opened" from 127.0.0.1:"#))
        #expect(fixSection.contains(#"owner.request("request 2") returned "reply to request 2" (within 0.5 s)"#))
    }

    @Test func localhostMissesAServerOfTheOtherFamilyThenNamesTheFamily() throws {
        let output = try runPitfall("pitfall-localhost")
        try expectLocalhostPitfall(output)
    }

    /// Debian's /etc/hosts names ::1 localhost too: then getaddrinfo lists ::1 first, and the program also shows
    /// the mirror failure (a server on 127.0.0.1 missed by a client taking that first answer). A private mount
    /// namespace (`unshare -m`) puts such a file over /etc/hosts for the one run.
    @Test(
        .enabled(
            if: getuid() == 0 && access("/usr/bin/unshare", X_OK) == 0,
            "a private /etc/hosts needs root and unshare"
        )
    )
    func localhostNamingBothFamiliesFailsBothWays() throws {
        let hosts = FileManager.default.temporaryDirectory.appendingPathComponent("pitfall-hosts-\(getpid())").path
        try "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n".write(
            toFile: hosts,
            atomically: true,
            encoding: .utf8
        )
        defer { try? FileManager.default.removeItem(atPath: hosts) }
        let output = try runPitfall(
            "pitfall-localhost",
            launcher: ["/usr/bin/unshare", "-m", "/bin/sh", "-c", #"mount --bind "$0" /etc/hosts && exec "$1""#, hosts]
        )
        try expectLocalhostPitfall(output)
        #expect(output.contains("getaddrinfo(\"localhost\"), in its own order: ::1, 127.0.0.1"))
        #expect(output.contains("[::1]:"))
        let mirror = try #require(output.range(of: "and the other way round: server on 127.0.0.1:"))
        #expect(output[mirror.upperBound...].contains("; server: received nothing"))
        #expect(output.contains("with family: .inet6 = [::1]:"))
    }
}

/// What the localhost program shows on any host: the server on ::1 missed, then found by naming the family, and
/// a dual-stack server hearing both.
func expectLocalhostPitfall(_ output: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let problem = try #require(output.range(of: "\nproblem: "))
    let fix = try #require(output.range(of: "\nfix: "))
    let problemSection = output[problem.upperBound..<fix.lowerBound]
    #expect(problemSection.contains("server: bound to [::1]:"), sourceLocation: sourceLocation)
    #expect(problemSection.contains(#"SocketAddress(resolving: "localhost:"#), sourceLocation: sourceLocation)
    // On loopback the ICMP port unreachable comes back to the connected client at once, unless the kernel's
    // host-wide ICMP rate limit, which other tests may spend, held it back.
    #expect(
        problemSection.contains("client: receive: connection refused")
            || problemSection.contains("client: no error and no reply within 0.3 s"),
        sourceLocation: sourceLocation
    )
    #expect(problemSection.contains("server: received nothing"), sourceLocation: sourceLocation)
    #expect(!problemSection.contains("received \""), sourceLocation: sourceLocation)
    let fixSection = output[fix.lowerBound...]
    #expect(
        fixSection.contains("with family: .inet6 = [::1]:") || fixSection.contains("with family: .inet6 fails here"),
        sourceLocation: sourceLocation
    )
    #expect(fixSection.contains("with family: .inet = 127.0.0.1:"), sourceLocation: sourceLocation)
    #expect(fixSection.contains("server: received \"hello\" from 127.0.0.1:"), sourceLocation: sourceLocation)
    #expect(
        fixSection.contains(#"received "hello" from 127.0.0.1:"#)
            && fixSection.contains("mapped to [::ffff:127.0.0.1]:"),
        sourceLocation: sourceLocation
    )
    #expect(fixSection.contains(#"client to [::1]:"#), sourceLocation: sourceLocation)
}

/// What the spoofing program shows with or without root: the impostor believed, then every forgery rejected and
/// only the server's sealed reply opened.
func expectSpoofingPitfall(_ output: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(
        output.contains(#"checking the sender's IP: accepted "balance: 1000000" from 127.0.0.1:"#),
        sourceLocation: sourceLocation
    )
    #expect(output.contains(#"real answer, "balance: 42", came second"#), sourceLocation: sourceLocation)
    #expect(output.contains(#"server: opened "balance?", answered sealed"#), sourceLocation: sourceLocation)
    for rejected in [
        "plain text from the impostor, from 127.0.0.1:[0-9]+: rejected \\(malformed\\)",
        "with a key of its own, from 127.0.0.1:[0-9]+: rejected \\(failed authentication\\)",
        "the server's reply, sent again, from 127.0.0.1:[0-9]+: rejected \\(replayed\\)",
        "sent back to it, from 127.0.0.1:[0-9]+: rejected \\(sealed for the other direction",
    ] {
        #expect(
            output.range(of: rejected, options: .regularExpression) != nil,
            "\(rejected)",
            sourceLocation: sourceLocation
        )
    }
    #expect(
        output.range(
            of: #"the server's reply, from 127.0.0.1:[0-9]+: opened "balance: 42""#,
            options: .regularExpression
        )
            != nil,
        sourceLocation: sourceLocation
    )
}
