import NamespaceTesting
import Testing

@testable import UDP

// ICMP errors from a router and from the far host, between three namespaces (NamespaceChain: client, router,
// server, with an MTU of 1400 on the router's far link): each arrives as a typed event naming who sent it, on
// an unconnected socket.
@Suite(.enabled(if: canCreateNamespaces, "ip netns needs root and iproute2"))
struct ErrorQueueChainTests {
    @Test(arguments: NamespaceChain.families)
    func eachErrorNamesItsSenderAndKind(_ chainFamily: NamespaceChain.Family) throws {
        let addresses = (
            family: chainFamily.name == "ipv4" ? AddressFamily.inet : .inet6,
            router: IPAddress(chainFamily.router)!,
            server: IPAddress(chainFamily.server)!,
            nowhere: IPAddress(chainFamily.nowhere)!,
            payloadForTheClientsLink: chainFamily.linkPayload
        )
        try withNamespaceChain { chain in
            let client = try chain.inClient { try UDPSocket(bindingTo: .any(addresses.family)) }
            try client.setReceiveErrors(true)
            try client.setPathMTUDiscovery(.do)
            let listening = try chain.inServer { try UDPSocket(bindingTo: SocketAddress(addresses.server, port: 0)) }
            let open = SocketAddress(addresses.server, port: try listening.localAddress.port)
            let closed = SocketAddress(addresses.server, port: try listening.localAddress.port &+ 1)

            // No route beyond the router.
            let lost = SocketAddress(addresses.nowhere, port: 9)
            try client.send(bytes("no route"), to: lost)
            let unreachable = try #require(try nextError(on: client))
            #expect(unreachable.kind == .networkUnreachable)
            #expect(unreachable.offender == addresses.router)
            #expect(unreachable.destination.unmapped == lost)
            #expect(unreachable.quotedPayload == bytes("no route"))

            // A hop limit of 1 ends at the router.
            try client.setUnicastHops(1)
            try client.send(bytes("one hop"), to: open)
            let expired = try #require(try nextError(on: client))
            #expect(expired.kind == .timeExceeded)
            #expect(expired.offender == addresses.router)
            #expect(expired.quotedPayload == bytes("one hop"))
            try client.setUnicastHops(64)

            // Too big for the far link: the router says so, with its MTU.
            let large = pattern(addresses.payloadForTheClientsLink, seed: 7)
            try client.send(large, to: open)
            // Before the event is read, the kernel would fail the next send with its EMSGSIZE: it still leaves.
            #expect(try client.waitUntilReadable(timeout: receiveTimeout))
            try listening.setReceiveTimeout(receiveTimeout)
            try client.send(bytes("small"), to: open)
            #expect(try listening.receive().payload == bytes("small"))
            let tooBig = try #require(try client.receiveError())
            #expect(tooBig.kind == .packetTooBig(mtu: NamespaceChain.farMTU))
            #expect(tooBig.offender == addresses.router)
            #expect(tooBig.errno == .messageTooLong)
            #expect(Array(large.prefix(tooBig.quotedPayload.count)) == tooBig.quotedPayload)
            #expect(tooBig.quotedPayload.count >= 8)
            #expect(tooBig.description == "From \(addresses.router): fragmentation needed (mtu 1400)")

            // Now the kernel knows the path MTU and refuses the same datagram itself, and queues that too.
            let refused = #expect(throws: UDPError.self) { try client.send(large, to: open) }
            #expect(refused?.code == .messageTooLarge)
            let local = try #require(try nextError(on: client))
            #expect(local.origin == .local)
            #expect(local.kind == .messageTooLarge(mtu: NamespaceChain.farMTU))

            // The server host has no socket on this port.
            try client.send(bytes("anyone?"), to: closed)
            let refusedByHost = try #require(try nextError(on: client))
            #expect(refusedByHost.kind == .portUnreachable)
            #expect(refusedByHost.offender == addresses.server)
            #expect(refusedByHost.destination.unmapped == closed)

            // And through all of it, what fits still arrives.
            try client.send(bytes("fits"), to: open)
            #expect(try listening.receive().payload == bytes("fits"))
        }
    }

    @Test func aDualStackSocketHearsTheRouterAboutIPv4() throws {
        try withNamespaceChain { chain in
            let client = try chain.inClient { try UDPSocket(bindingTo: .any(.inet6)) }
            try client.setReceiveErrors(true)
            let lost = SocketAddress(IPAddress(NamespaceChain.nowhereV4)!, port: 9)
            try client.send(bytes("mapped"), to: lost)
            let event = try #require(try nextError(on: client))
            #expect(event.kind == .networkUnreachable)
            #expect(event.offender == IPAddress(NamespaceChain.routerNearV4))
            #expect(event.destination.unmapped == lost)
        }
    }
}
