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
        for name in Self.subcommands {
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

    @Test(
        "the zsh completion script, found on fpath as _udp, completes subcommands and options on TAB",
        .enabled(if: installedShell("zsh") != nil, "needs zsh (apt-get install zsh)")
    )
    func zshCompletes() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try writeCompletionScript(for: "zsh", to: folder + "/_udp")
        // zsh completes only inside its line editor: drive an interactive zsh on a pseudo-terminal (zpty), type
        // the line and TAB, and print each candidate as compinit's compadd receives it.
        let driver = #"""
            zmodload zsh/zpty
            zpty z zsh -f -i
            zpty -w z "PROMPT= ; fpath=(${(q)1} \$fpath); autoload -U compinit; compinit -u -D"
            zpty -w z 'compadd () { builtin compadd -O hits "$@"; print -r -- "" ${(@)hits/#/HIT:}; builtin compadd "$@" }'
            zpty -w z "bindkey '^I' complete-word"
            zpty -w z "$2"$'\t'
            zpty -w z $'\C-u'"print -r -- DONE-\$((6*7))"
            while zpty -r z line; do
                [[ $line == *DONE-42* ]] && break
                for word in ${(z)line}; do [[ $word == HIT:* ]] && print -r -- ${word#HIT:}; done
            done
            zpty -d z
            """#
        let complete = { (line: String) throws -> [String] in
            let shell = try Spawned([installedShell("zsh")!, "-f", "-c", driver, "zsh", folder, line])
            shell.closeStandardInput()
            return shell.wait(timeout: .seconds(10)).stdout.split(separator: "\n").map(String.init)
        }
        let subcommands = try complete("udp ")
        for name in Self.subcommands { #expect(subcommands.contains(name), "udp TAB offered \(subcommands)") }
        #expect(try complete("udp relay --lo").contains("--loss-up"))
    }

    @Test(
        "the fish completion script loads in fish and completes subcommands and options",
        .enabled(if: installedShell("fish") != nil, "needs fish (apt-get install fish)")
    )
    func fishCompletes() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try writeCompletionScript(for: "fish", to: folder + "/udp.fish")
        // `complete -C LINE` prints what fish offers on TAB after LINE, one `candidate<TAB>description` a line.
        let complete = { (line: String) throws -> [String] in
            let program = "source '\(folder)/udp.fish'; complete -C '\(line)'"
            let shell = try Spawned([installedShell("fish")!, "--no-config", "-c", program])
            shell.closeStandardInput()
            return shell.wait(timeout: .seconds(10)).stdout.split(separator: "\n").map {
                String($0.prefix { $0 != "\t" })
            }
        }
        let subcommands = try complete("udp ")
        for name in Self.subcommands { #expect(subcommands.contains(name), "udp TAB offered \(subcommands)") }
        #expect(try complete("udp relay --lo").contains("--loss-up"))
    }

    static let subcommands = [
        "echo", "send", "listen", "ping", "mtu", "dns", "ntp", "discover", "announce", "bench", "relay", "stats",
        "keygen",
    ]

    private func temporaryFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "udp-completion-\(getpid())-\(UUID())"
        )
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.path
    }

    private func writeCompletionScript(for shell: String, to path: String) throws {
        let script = try runUDP("--generate-completion-script", shell)
        try #require(script.status == 0)
        try #require(FileManager.default.createFile(atPath: path, contents: Data(script.stdout.utf8)))
    }
}

/// The path of `name` where a Debian package installs it, or nil when that shell is not installed.
private func installedShell(_ name: String) -> String? {
    ["/usr/bin/\(name)", "/bin/\(name)"].first { FileManager.default.isExecutableFile(atPath: $0) }
}
