import Foundation
import NamespaceTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

// What `udp ping` and `udp send` say about ICMP errors from a router and from the far host, through a
// client-router-server chain of namespaces (NamespaceChain; the far link's MTU is 1400).
@Suite("ICMP errors through a router", .enabled(if: canCreateNamespaces, "ip netns needs root and iproute2"))
struct ICMPCommandTests {
    private func lines(_ text: String, equalTo line: String) -> Int {
        text.split(separator: "\n").filter { $0 == line }.count
    }

    @Test(
        "ping prints each error as ping(8) does, naming the router or host, and counts them",
        arguments: NamespaceChain.families
    )
    func ping(_ family: NamespaceChain.Family) throws {
        try withNamespaceChain { chain in
            let echo = try Spawned([
                "/usr/sbin/ip", "netns", "exec", chain.server, udpBinary, "echo", "--host", family.wildcard, "--port",
                "0",
            ])
            let port = try echo.listeningPort()
            let quick = ["-c", "2", "-i", "0.05", "--timeout", "0.5"]

            let noRoute = try udpArray(
                in: chain.client,
                ["ping", family.endpoint(family.nowhere, 9), "--json"] + quick
            )
            #expect(noRoute.status == 1)
            #expect(
                lines(noRoute.stdout, equalTo: "From \(family.router): network unreachable") == 2,
                "\(noRoute.stdout)"
            )
            #expect(noRoute.stdout.contains("100% packet loss, 2 icmp errors"))
            #expect(integer(try lastLineJSON(noRoute.stdout), "icmp_errors") == 2)

            let expired = try udpArray(
                in: chain.client,
                ["ping", family.endpoint(family.server, port), "--ttl", "1"] + quick
            )
            #expect(lines(expired.stdout, equalTo: "From \(family.router): time exceeded") == 2, "\(expired.stdout)")

            let closed = try udpArray(in: chain.client, ["ping", family.endpoint(family.server, port &+ 1)] + quick)
            #expect(lines(closed.stdout, equalTo: "From \(family.server): port unreachable") == 2, "\(closed.stdout)")

            let large = try udpArray(
                in: chain.client,
                [
                    "ping", family.endpoint(family.server, port), "-s", "\(family.linkPayload)", "-c", "1", "--timeout",
                    "0.5",
                ]
            )
            #expect(
                large.stdout.contains("From \(family.router): fragmentation needed (mtu 1400)"),
                "\(large.stdout)"
            )

            let reached = try udpArray(in: chain.client, ["ping", family.endpoint(family.server, port)] + quick)
            #expect(reached.status == 0, "and the path works: \(reached.stdout) \(reached.stderr)")
            echo.signal(SIGINT)
        }
    }

    @Test("send names who refused, or which router had no route", arguments: NamespaceChain.families)
    func send(_ family: NamespaceChain.Family) throws {
        try withNamespaceChain { chain in
            let refused = try udpArray(in: chain.client, ["send", family.endpoint(family.server, 9), "hello"])
            expectOneLineError(refused, containing: "connection refused (port unreachable from \(family.server)")
            let noRoute = try udpArray(in: chain.client, ["send", family.endpoint(family.nowhere, 9), "hello"])
            expectOneLineError(noRoute, containing: "network unreachable from \(family.router)")
        }
    }

    /// Runs `udp ARGUMENTS…` in namespace `name` to completion.
    private func udpArray(
        in name: String,
        _ arguments: [String]
    ) throws -> (status: CInt, stdout: String, stderr: String) {
        let process = try Spawned(["/usr/sbin/ip", "netns", "exec", name, udpBinary] + arguments)
        process.closeStandardInput()
        return process.wait(timeout: .seconds(10))
    }
}
