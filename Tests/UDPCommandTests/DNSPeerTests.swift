import Foundation
import Testing

/// `udp dns` and dig ask the same server the same question: the whole output must agree (bar the id, which each
/// draws at random, and the query time), and so must the answer section with `dig +noall +answer`'s lines.
private func expectSameAsDig(
    _ hosts: NamespacePair,
    server: String,
    _ query: [String],
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let ours = try hosts.udpDNS(query + ["@\(server)"])
    #expect(ours.status == 0, "\(query): \(ours.stderr)", sourceLocation: sourceLocation)
    let dig = try hosts.dig(["@\(server)"] + query)
    #expect(
        comparableDNSOutput(ours.stdout) == comparableDNSOutput(dig),
        "\(query)\nudp dns:\n\(ours.stdout)\ndig:\n\(dig)",
        sourceLocation: sourceLocation
    )
    let digAnswers = try hosts.dig(["+noall", "+answer", "@\(server)"] + query)
    #expect(answerSection(ours.stdout) == digAnswerLines(digAnswers), "\(query)", sourceLocation: sourceLocation)
}

@Suite(
    "udp dns against dnsmasq",
    .enabled(if: NamespacePair.available, "ip netns needs root and iproute2"),
    .enabled(if: dnsmasqInstalled, "needs dnsmasq (apt-get install --no-install-recommends dnsmasq)"),
    .enabled(if: digInstalled, "needs dig (apt-get install --no-install-recommends bind9-dnsutils)")
)
struct DnsmasqPeerTests {
    @Test("A, AAAA, MX, TXT, SRV, NXDOMAIN, PTR and a numbered type print as dig prints them")
    func answersAsDig() throws {
        let hosts = try NamespacePair()
        let dnsmasq = try hosts.startDnsmasq()
        defer { withExtendedLifetime(dnsmasq) {} }  // it stops when it goes away
        for query in [
            ["a.example.test"], ["host.example.test", "AAAA"], ["example.test", "MX"], ["txt.example.test", "TXT"],
            ["bin.example.test", "TXT"], ["_sip._udp.example.test", "SRV"], ["nope.example.test"],
            ["x.example.test", "TYPE65534"], ["-x", "198.18.0.7"],
        ] {
            try expectSameAsDig(hosts, server: hosts.addressB, query)
        }
        // And a few lines spelled out, so that agreeing with dig cannot hide a shared mistake.
        let mx = try hosts.udpDNS(["example.test", "mx", "@\(hosts.addressB)"]).stdout
        #expect(answerSection(mx) == ["example.test. 300 IN MX 10 mail.example.test."])
        let txt = try hosts.udpDNS(["txt.example.test", "TXT", "@\(hosts.addressB)"]).stdout
        #expect(answerSection(txt) == [#"txt.example.test. 300 IN TXT "hello world" "a \"quoted\" one""#])
        let nxdomain = try hosts.udpDNS(["nope.example.test", "@\(hosts.addressB)"])
        #expect(nxdomain.status == 0, "an answered query exits 0 whatever its status, as dig")
        #expect(nxdomain.stdout.contains("status: NXDOMAIN"))
    }

    @Test("--count probes the server as dnsping does and sums up as udp ping does, in text and JSON")
    func probe() throws {
        let hosts = try NamespacePair()
        let dnsmasq = try hosts.startDnsmasq()
        defer { withExtendedLifetime(dnsmasq) {} }  // it stops when it goes away
        let result = try hosts.udpDNS([
            "a.example.test", "@\(hosts.addressB)", "--count", "3", "--interval", "0.05", "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let replies = lines.filter { $0.contains("bytes from \(hosts.addressB):53: seq=") }
        #expect(replies.count == 3 && replies.allSatisfy { $0.hasSuffix("NOERROR 1 answer") }, "\(result.stdout)")
        #expect(
            lines.contains("3 queries transmitted, 3 received, 0% packet loss")
                || lines.contains { $0.hasPrefix("3 queries transmitted, 3 received, 0% packet loss, time") }
        )
        #expect(lines.contains { $0.hasPrefix("rtt min/avg/max/mdev = ") })
        #expect(lines.contains { $0.hasPrefix("rtt p50/p90/p99/p99.9 = ") })
        let json = try #require(lines.last)
        for key in [
            #""sent": 3"#, #""received": 3"#, #""lost": 0"#, #""rcode": "NOERROR""#, #""ignored": 0"#,
            #""data": "198.18.0.7""#, #""p50_us": "#, #""p999_us": "#, #""server": "\#(hosts.addressB):53""#,
        ] {
            #expect(json.contains(key), "\(key) not in \(json)")
        }
        // --count 0 probes until Ctrl-C, then sums up as udp ping does.
        let endless = try hosts.udp(
            in: hosts.a,
            "dns",
            "a.example.test",
            "@\(hosts.addressB)",
            "--count",
            "0",
            "--interval",
            "0.05"
        )
        #expect(endless.readLine()?.hasPrefix("DNS PING \(hosts.addressB):53: a.example.test. A") == true)
        #expect(endless.readLine()?.contains("seq=1 time=") == true)
        #expect(endless.readLine()?.contains("seq=2 time=") == true)
        endless.signal(SIGINT)
        let rest = endless.wait()
        #expect(rest.status == 0, "\(rest.stderr)")
        #expect(rest.stdout.contains("--- \(hosts.addressB):53 udp dns statistics ---"), "\(rest.stdout)")
    }
}

@Suite(
    "udp dns against unbound",
    .enabled(if: NamespacePair.available, "ip netns needs root and iproute2"),
    .enabled(if: unboundInstalled, "needs unbound (apt-get install --no-install-recommends unbound)"),
    .enabled(if: digInstalled, "needs dig (apt-get install --no-install-recommends bind9-dnsutils)")
)
struct UnboundPeerTests {
    @Test(
        "A, AAAA, MX, TXT, SRV, SOA, NS, CNAME, PTR and NXDOMAIN with its SOA print as dig prints them",
        arguments: ["ipv4", "ipv6"]
    )
    func answersAsDig(family: String) throws {
        let hosts = try NamespacePair()
        let unbound = try hosts.startUnbound(on: [hosts.addressB, hosts.addressesOfB6[0]])
        defer { withExtendedLifetime(unbound) {} }  // it stops when it goes away
        let server = family == "ipv4" ? hosts.addressB : hosts.addressesOfB6[0]
        for query in [
            ["a.example.test"], ["host.example.test", "AAAA"], ["example.test", "MX"], ["txt.example.test", "TXT"],
            ["_sip._udp.example.test", "SRV"], ["example.test", "SOA"], ["example.test", "NS"], ["www.example.test"],
            ["-x", "198.18.0.7"], ["nope.example.test"],
        ] {
            try expectSameAsDig(hosts, server: server, query)
        }
        let nxdomain = try hosts.udpDNS(["nope.example.test", "@\(server)", "--json"])
        #expect(nxdomain.status == 0)
        let json = try #require(nxdomain.stdout.split(separator: "\n").last)
        #expect(json.contains(#""rcode": "NXDOMAIN""#) && json.contains(#""answers": []"#), "\(json)")
        #expect(
            json.contains(
                #""authority": [{"name": "example.test.", "type": "SOA", "class": "IN", "ttl": 300, "data": "ns.example.test. hostmaster.example.test. 2026120401 3600 900 604800 300"}]"#
            ),
            "\(json)"
        )
    }
}
