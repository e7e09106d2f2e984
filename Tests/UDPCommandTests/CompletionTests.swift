import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Shell completions come from the command definitions (swift-argument-parser), so they cannot drift.
@Suite("completions")
struct CompletionTests {
    @Test("the bash completion script loads in bash and completes subcommands and options")
    func bashCompletes() throws {
        let script = try runUDP("--generate-completion-script", "bash")
        #expect(script.status == 0)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("udp-\(getpid()).bash").path
        defer { unlink(path) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(script.stdout.utf8)))
        // What bash does on TAB: set the words and the cursor, call the function, read COMPREPLY.
        let complete = { (line: String, words: [String]) throws -> String in
            let quoted = words.map { "'\($0)'" }.joined(separator: " ")
            let program = """
                source '\(path)'
                COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); COMP_LINE='\(line)'; COMP_POINT=\(line.count)
                _udp udp '\(words.last!)' '\(words[words.count - 2])'
                echo "${COMPREPLY[@]}"
                """
            let shell = try Spawned(["/bin/bash", "--norc", "-c", program])
            shell.closeStandardInput()
            return shell.wait(timeout: .seconds(10)).stdout
        }
        let subcommands = try complete("udp ", ["udp", ""])
        for name in [
            "echo", "send", "listen", "ping", "mtu", "discover", "announce", "ntp", "bench", "relay", "stats", "keygen",
        ] {
            #expect(
                subcommands.split(separator: " ").contains {
                    $0.trimmingCharacters(in: .whitespacesAndNewlines) == name
                }
            )
        }
        #expect(try complete("udp relay --lo", ["udp", "relay", "--lo"]).contains("--loss-up"))
    }

    @Test("zsh and fish scripts are generated too", arguments: ["zsh", "fish"])
    func otherShells(shell: String) throws {
        let script = try runUDP("--generate-completion-script", shell)
        #expect(script.status == 0)
        #expect(script.stdout.contains("relay"))
    }
}
