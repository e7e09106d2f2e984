import Testing

/// The help text teaches: each subcommand has a one-sentence abstract and a real invocation.
@Suite("help")
struct HelpTests {
    @Test func rootHelpListsSubcommands() throws {
        let result = try runUDP("--help")
        #expect(result.status == 0)
        for line in ["echo", "Reflect each datagram back to its sender.", "send", "listen"] {
            #expect(result.stdout.contains(line))
        }
    }

    @Test(arguments: [
        ("echo", "udp echo --port 9999 --prefix 'ack: ' --verbose"),
        ("send", "udp send --retries 3 --timeout 0.5"),
        ("listen", "udp listen --port 5000 --join 239.1.2.3 --interface eth1"),
        ("discover", "udp discover --ssdp --st urn:schemas-upnp-org:device:MediaServer:1"),
        ("announce", "udp announce --ssdp --st urn:schemas-upnp-org:device:MediaServer:1"),
        ("ntp", "udp ntp '[fd75:6470:2::2]:123' --count 8 --json"),
    ])
    func subcommandHelpShowsAnExample(command: String, example: String) throws {
        let result = try runUDP(command, "--help")
        #expect(result.status == 0)
        #expect(result.stdout.contains(example))
    }
}
