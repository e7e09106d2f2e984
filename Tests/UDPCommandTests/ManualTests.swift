import Foundation
import Testing

/// `man`, where man-db is installed.
private let manCommand = ["/usr/bin/man", "/bin/man"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// The man pages checked in under Documentation/man: generated from the command definitions by
/// Scripts/man-pages.sh (swift-argument-parser's generate-manual plugin), and compared with a fresh generation by
/// `Scripts/man-pages.sh --check` in CI. Here: that they render, and that they say what this `udp` says.
@Suite("man pages", .enabled(if: manCommand != nil, "needs man (apt-get install man-db)"))
struct ManualTests {
    static let subcommands = [
        "echo", "send", "listen", "ping", "mtu", "dns", "ntp", "discover", "announce", "bench", "relay", "stats",
        "keygen",
    ]

    static let pages = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Documentation/man")

    /// The page as `man -l` renders it for a terminal, in lines wide enough that no sentence is broken.
    private func render(_ page: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let path = Self.pages.appendingPathComponent(page).path
        #expect(FileManager.default.fileExists(atPath: path), "no page \(path)", sourceLocation: sourceLocation)
        let man = try Spawned([manCommand!, "-l", path], environment: ["MANWIDTH": "250", "MANPAGER": "cat"])
        man.closeStandardInput()
        let result = man.wait(timeout: .seconds(10))
        #expect(result.status == 0, "man -l \(page): \(result.stderr)", sourceLocation: sourceLocation)
        return result.stdout
    }

    @Test("udp.1 renders with man -l and names every subcommand's page")
    func rootPage() throws {
        let text = try render("udp.1")
        #expect(text.contains("Send, receive, reflect and measure UDP datagrams."))
        for name in Self.subcommands {
            #expect(text.contains("udp.\(name)(1)"), "udp.1 does not name udp.\(name)(1)")
        }
    }

    @Test("each subcommand's page renders with man -l and carries the abstract of its --help", arguments: subcommands)
    func subcommandPage(name: String) throws {
        let text = try render("udp.\(name).1")
        let help = try runUDP(name, "--help")
        let overview = try #require(
            help.stdout.split(separator: "\n").first { $0.hasPrefix("OVERVIEW: ") }?.dropFirst("OVERVIEW: ".count)
        )
        #expect(text.contains("udp \(name)"))
        #expect(text.contains(overview), "udp.\(name).1 does not say '\(overview)': run Scripts/man-pages.sh")
    }
}
