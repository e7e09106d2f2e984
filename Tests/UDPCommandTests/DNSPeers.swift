import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

// Debian's DNS servers and dig, for the tests of `udp dns`. `.ci/run` installs them without starting them; each
// test starts its own inside namespace B of a NamespacePair, with local records only: B has no route beyond the
// pair, dnsmasq gets no upstream server, unbound no forward zone, and the tests ask only for names under the local
// zones, so no query leaves the two namespaces.

let dnsmasqInstalled = FileManager.default.isExecutableFile(atPath: "/usr/sbin/dnsmasq")
let unboundInstalled = FileManager.default.isExecutableFile(atPath: "/usr/sbin/unbound")
let digInstalled = FileManager.default.isExecutableFile(atPath: "/usr/bin/dig")

/// The records both servers hold, in dnsmasq's options: A, AAAA and PTR (`--host-record`), MX, TXT (one with
/// every kind of escape, as raw hex), SRV, a type of no name (65534), and NXDOMAIN for anything else under
/// example.test (`--local`, which also keeps it from ever forwarding).
private let dnsmasqRecords = [
    "--local=/example.test/",
    "--host-record=a.example.test,198.18.0.7",
    "--host-record=host.example.test,fd75:6470::8",
    "--mx-host=example.test,mail.example.test,10",
    #"--txt-record=txt.example.test,hello world,a "quoted" one"#,
    // "A\nB\xff\"\\", "", "é☂ ;(": control, high, quote and backslash bytes, an empty string, UTF-8.
    "--dns-rr=bin.example.test,16,06410a42ff225c0008c3a9e29882203b28",
    "--srv-host=_sip._udp.example.test,sip.example.test,5060,0,5",
    "--dns-rr=x.example.test,65534,0a0b0c",
    "--local-ttl=300",
]

/// unbound's configuration: a static local zone, remote control off, nothing to recurse to (no root hints
/// file, no trust anchor, no forward zone), in the foreground, logging to stderr, writing no file.
private func unboundConfig(listenOn addresses: [String]) -> String {
    let interfaces = addresses.map { "    interface: \($0)" }.joined(separator: "\n")
    return """
        server:
        \(interfaces)
            port: 53
            do-daemonize: no
            chroot: ""
            username: ""
            pidfile: ""
            use-syslog: no
            logfile: ""
            verbosity: 1
            do-ip4: yes
            do-ip6: yes
            do-tcp: no
            access-control: 198.18.0.0/15 allow
            access-control: fd75:6470::/32 allow
            module-config: "iterator"
            do-not-query-localhost: yes
            root-hints: ""
            auto-trust-anchor-file: ""
            trust-anchor-file: ""
            local-zone: "example.test." static
            local-data: "example.test. 300 IN SOA ns.example.test. hostmaster.example.test. 2026120401 3600 900 604800 300"
            local-data: "example.test. 300 IN NS ns.example.test."
            local-data: "a.example.test. 300 IN A 198.18.0.7"
            local-data: "host.example.test. 300 IN AAAA fd75:6470::8"
            local-data: "example.test. 300 IN MX 10 mail.example.test."
            local-data: "txt.example.test. 300 IN TXT \\"hello world\\" \\"a \\\\\\"quoted\\\\\\" one\\""
            local-data: "_sip._udp.example.test. 300 IN SRV 0 5 5060 sip.example.test."
            local-data: "www.example.test. 300 IN CNAME a.example.test."
            local-data-ptr: "198.18.0.7 a.example.test."
        remote-control:
            control-enable: no

        """
}

/// A DNS server running in namespace B, stopped (by its own PID) when this goes away.
final class DNSPeer {
    let process: Spawned
    private let folder: String?

    init(process: Spawned, folder: String?) {
        self.process = process
        self.folder = folder
    }

    deinit {
        process.signal(SIGTERM)
        process.wait(timeout: .seconds(5))
        if let folder { try? FileManager.default.removeItem(atPath: folder) }
    }
}

extension NamespacePair {
    /// Starts dnsmasq in B on `addressB` port 53 with ``dnsmasqRecords`` and returns once it answers.
    func startDnsmasq() throws -> DNSPeer {
        let process = try Spawned(
            [
                "/usr/sbin/ip", "netns", "exec", b, "/usr/sbin/dnsmasq", "--keep-in-foreground", "--log-facility=-",
                "--no-resolv", "--no-hosts", "--no-poll", "--port=53", "--listen-address=\(addressB)",
                "--bind-interfaces", "--pid-file=", "--conf-file=/dev/null", "--user=root", "--group=root",
            ] + dnsmasqRecords
        )
        let peer = DNSPeer(process: process, folder: nil)
        let started = process.readErrorLine(timeout: .seconds(10)) { $0.contains("started, version") }
        try #require(started != nil, "dnsmasq did not start")
        try waitUntilAnswering(addressB, name: "a.example.test")
        return peer
    }

    /// Starts unbound in B on `addresses`, port 53, from a configuration file in a folder of its own (removed
    /// with it), and returns once it answers on the first.
    func startUnbound(on addresses: [String]) throws -> DNSPeer {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("udp-unbound-\(b)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let config = folder + "/unbound.conf"
        try unboundConfig(listenOn: addresses).write(toFile: config, atomically: true, encoding: .utf8)
        let process = try Spawned(["/usr/sbin/ip", "netns", "exec", b, "/usr/sbin/unbound", "-d", "-c", config])
        let peer = DNSPeer(process: process, folder: folder)
        let started = process.readErrorLine(timeout: .seconds(10)) { $0.contains("start of service") }
        try #require(started != nil, "unbound did not start")
        try waitUntilAnswering(addresses[0], name: "a.example.test")
        return peer
    }

    /// Asks `server` with `udp dns` from A until it answers (a server not yet listening draws a port
    /// unreachable, which ends each try at once), for at most 10 seconds.
    func waitUntilAnswering(_ server: String, name: String) throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let result = try udpDNS(name, "@\(server)", "--tries", "1", "--timeout", "0.2")
            if result.status == 0 { return }
        }
        throw NamespaceError(message: "no DNS server answers on \(server)")
    }

    /// `udp dns ARGUMENTS…` run to completion in A.
    func udpDNS(_ arguments: String...) throws -> (status: CInt, stdout: String, stderr: String) {
        try udpDNS(arguments)
    }

    /// `udp dns ARGUMENTS…` run to completion in A.
    func udpDNS(_ arguments: [String]) throws -> (status: CInt, stdout: String, stderr: String) {
        let process = try Spawned(["/usr/sbin/ip", "netns", "exec", a, udpBinary, "dns"] + arguments)
        process.closeStandardInput()
        return process.wait(timeout: .seconds(20))
    }

    /// `dig ARGUMENTS…` run to completion in A, with the options that make its query the same as `udp dns`'s
    /// (no AD flag, no cookie: EDNS(0) at 1232 bytes and RD are both's defaults).
    func dig(_ arguments: [String]) throws -> String {
        let process = try Spawned(
            ["/usr/sbin/ip", "netns", "exec", a, "/usr/bin/dig", "+noadflag", "+nocookie"] + arguments
        )
        process.closeStandardInput()
        let result = process.wait(timeout: .seconds(20))
        #expect(result.status == 0, "dig \(arguments): \(result.stderr)")
        return result.stdout
    }
}

/// A dig-style output reduced to what two runs of the same query share: no `Query time` or `WHEN` line, no
/// leading `; <<>> DiG` lines, the id as `N`, runs of spaces and tabs as one space, no trailing blank lines.
func comparableDNSOutput(_ text: String) -> [String] {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter {
        !$0.hasPrefix(";; Query time") && !$0.hasPrefix(";; WHEN") && !$0.hasPrefix("; <<>>")
            && !$0.hasPrefix("; (") && !$0.hasPrefix(";; global options")
    }
    lines = lines.map { line in
        var line = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        if let range = line.range(of: #"id: [0-9]+"#, options: .regularExpression) {
            line.replaceSubrange(range, with: "id: N")
        }
        return line
    }
    while lines.last?.isEmpty == true { lines.removeLast() }
    while lines.first?.isEmpty == true { lines.removeFirst() }
    return lines
}

/// The records of a dig-style output's answer section, normalised as `dig +noall +answer`'s are.
func answerSection(_ text: String) -> [String] {
    let lines = comparableDNSOutput(text)
    guard let start = lines.firstIndex(of: ";; ANSWER SECTION:") else { return [] }
    return Array(lines[(start + 1)...].prefix { !$0.isEmpty })
}

/// `dig +noall +answer`'s lines, normalised.
func digAnswerLines(_ text: String) -> [String] {
    comparableDNSOutput(text).filter { !$0.isEmpty }
}
