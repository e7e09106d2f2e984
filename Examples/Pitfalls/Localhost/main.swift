// Pitfall 6: `localhost` resolving to either family.
//
// `localhost` is a name, and a name may stand for 127.0.0.1, ::1 or both, in an order set by /etc/hosts and
// /etc/gai.conf. A server bound to one family does not hear a client that picked the other: UDP gives no error
// to say so, only silence (or, on a connected socket, "connection refused"). This program shows what
// `localhost` is here, a server on ::1 missed by a client that resolved 127.0.0.1, then the fix: name the
// family on both sides, or serve both with a dual-stack socket. It resolves `localhost` only, never a real name.
// usage: pitfall-localhost        (loopback only; about a second)
import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let hello = Array("hello".utf8)

/// What `server` heard within 0.3 s, in words.
func heard(by server: borrowing UDPSocket) throws -> String {
    guard let datagram = try server.receive(maximumSize: 2048, timeout: .milliseconds(300)) else {
        return "received nothing"
    }
    let sender =
        datagram.sender.isV4Mapped ? "\(datagram.sender.unmapped), mapped to \(datagram.sender)" : "\(datagram.sender)"
    return "received \"\(String(decoding: datagram.payload, as: UTF8.self))\" from \(sender)"
}

/// Sends "hello" to `destination` from a connected socket and says what the client saw: on loopback the kernel
/// answers a datagram to a port nobody listens on with ICMP port unreachable, which a connected socket reports.
/// An unconnected one, as most clients use, would see nothing at all.
func clientSendsHello(to destination: SocketAddress) throws -> String {
    let client = try UDPSocket(family: destination.family)
    try client.connect(to: destination)
    try client.send(hello)
    do {
        let reply = try client.receive(maximumSize: 2048, timeout: .milliseconds(300))
        return reply == nil ? "no error and no reply within 0.3 s" : "a reply"
    } catch {
        return "\(error)"
    }
}

/// Whether /etc/hosts names `localhost` for `family`. Only then is the name resolved with that family: where
/// the file has no such line, glibc's getaddrinfo goes on to ask DNS for "localhost" (RFC 6761 says it should
/// not), and this program sends no query off the machine.
func hostsFileNamesLocalhost(_ family: AddressFamily) -> Bool {
    guard let file = fopen("/etc/hosts", "r") else { return false }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>?
    var capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0, let line {
        let text = String(cString: line).prefix { $0 != "#" }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
        guard let address = fields.first.flatMap({ IPAddress(String($0)) }), address.family == family else { continue }
        if fields.dropFirst().contains("localhost") { return true }
    }
    return false
}

/// The line a resolution of `localhost` for `family` would print, or why it is not tried.
func notAskingDNS(_ family: AddressFamily) -> String {
    "not tried: /etc/hosts has no \(family) line for localhost, so getaddrinfo would ask DNS for it"
}

/// Sends "hello" to `destination`, for the cases that work.
func sendHello(to destination: SocketAddress) throws {
    try UDPSocket(family: destination.family).send(hello, to: destination)
}

func main() throws {
    print("pitfall 6: `localhost` resolving to either family")
    guard hostsFileNamesLocalhost(.inet) else {
        // Without the file's answer the name would go to DNS: show nothing rather than send a query.
        print("skipped: /etc/hosts has no IPv4 line for localhost, so resolving it would ask DNS")
        return
    }

    print("")
    print("here: what `localhost` resolves to (from /etc/hosts only: no DNS query is sent)")
    let order = resolverOrder("localhost")
    print("  getaddrinfo(\"localhost\"), in its own order: \(order.joined(separator: ", "))")
    print("    (Python's socket.getaddrinfo gives this order, and most clients try the first)")
    for family in [AddressFamily.inet, .inet6] {
        guard hostsFileNamesLocalhost(family) else {
            print("  resolve(\"localhost\", family: .\(family == .inet ? "inet" : "inet6")): \(notAskingDNS(family))")
            continue
        }
        do {
            let addresses = try SocketAddress.resolve("localhost", port: 0, family: family)
            print("  resolve(\"localhost\", family: .\(family == .inet ? "inet" : "inet6")): \(addresses.map(\.ip))")
        } catch {
            print("  resolve(\"localhost\", family: .\(family == .inet ? "inet" : "inet6")): \(error)")
        }
    }
    if !(order.contains("127.0.0.1") && order.contains("::1")) {
        print("  (Debian's default /etc/hosts names both, and getaddrinfo then lists ::1 first)")
    }

    print("")
    print("problem: the server listens on ::1; the client resolves \"localhost\" to 127.0.0.1 and misses it")
    let v6Server: UDPSocket
    do {
        v6Server = try UDPSocket(bindingTo: .loopbackV6(port: 0))
    } catch {
        print("  skipped: no IPv6 on loopback here (\(error))")
        try showExplicitFamilies()
        return
    }
    let port = try v6Server.localAddress.port
    let resolved = try SocketAddress(resolving: "localhost:\(port)")  // no family: IPv4 first
    print("  server: bound to \(try v6Server.localAddress)")
    print("  client: SocketAddress(resolving: \"localhost:\(port)\") = \(resolved); sent \"hello\" there")
    print("  client: \(try clientSendsHello(to: resolved))")
    print("  server: \(try heard(by: v6Server))")
    if order.first == "::1", order.contains("127.0.0.1") {
        // Where localhost is ::1 first, the common failure is the other way round: a server on 127.0.0.1.
        let v4Server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let first = SocketAddress(IPv6Address.loopback, port: try v4Server.localAddress.port)
        print("  and the other way round: server on \(try v4Server.localAddress), client taking getaddrinfo's first,")
        print("    \(first): \(try clientSendsHello(to: first)); server: \(try heard(by: v4Server))")
    }

    print("")
    print("fix: name the family on both sides, so that both mean the same address")
    if !hostsFileNamesLocalhost(.inet6) {
        print("  client: resolving \"localhost:\(port)\" with family: .inet6 fails here: \(notAskingDNS(.inet6))")
        print("    name that server by number instead: [::1]:\(port)")
    } else {
        do {
            let named = try SocketAddress(resolving: "localhost:\(port)", family: .inet6)
            try sendHello(to: named)
            print("  client: resolving \"localhost:\(port)\" with family: .inet6 = \(named); sent \"hello\" there")
            print("  server: \(try heard(by: v6Server))")
        } catch {
            print("  client: resolving \"localhost:\(port)\" with family: .inet6 fails here at once, with the reason:")
            print("    \(error)")
            print(
                "    a loud error instead of a datagram lost in silence; here, name that server by number: [::1]:\(port)"
            )
        }
    }
    try showExplicitFamilies()
}

/// The fixes that work on any host: one family named on both sides, or a server that takes both.
func showExplicitFamilies() throws {
    let server = try UDPSocket(bindingTo: SocketAddress.resolve("localhost", port: 0, family: .inet)[0])
    let port = try server.localAddress.port
    let named = try SocketAddress(resolving: "localhost:\(port)", family: .inet)
    print("  server bound to \"localhost\" resolved with family: .inet: \(try server.localAddress)")
    try sendHello(to: named)
    print("  client: resolving \"localhost:\(port)\" with family: .inet = \(named); sent \"hello\" there")
    print("  server: \(try heard(by: server))")

    print("")
    print("fix: or a dual-stack server on [::] hears either family")
    let dualStack: UDPSocket
    do {
        dualStack = try UDPSocket(bindingTo: .any(.inet6, port: 0))  // IPV6_V6ONLY off: IPv4 peers too
    } catch {
        print("  skipped: no IPv6 here (\(error))")
        return
    }
    let dualPort = try dualStack.localAddress.port
    try sendHello(to: .loopbackV4(port: dualPort))
    print("  server on [::]:\(dualPort), client to 127.0.0.1:\(dualPort): \(try heard(by: dualStack))")
    try sendHello(to: .loopbackV6(port: dualPort))
    print("  server on [::]:\(dualPort), client to [::1]:\(dualPort): \(try heard(by: dualStack))")
    print("  (an IPv4 peer arrives as ::ffff:a.b.c.d; SocketAddress.unmapped gives back the IPv4 address)")
}

do {
    try main()
} catch {
    print("error: \(error)")
    exit(1)
}
