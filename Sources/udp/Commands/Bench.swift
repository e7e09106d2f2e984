import ArgumentParser

// Placeholder while the command is written; see issue 3.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Not written yet.", shouldDisplay: false)
    func run() throws { throw RuntimeFailure("udp bench is not written yet") }
}
