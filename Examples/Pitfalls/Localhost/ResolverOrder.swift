#if canImport(Glibc)
import Glibc
#endif

/// The addresses getaddrinfo(3) gives for `host` with no family asked, in its own order: what Python's
/// `socket.getaddrinfo` returns, and the first of them is what most clients try. (`SocketAddress.resolve` with
/// no family puts IPv4 first instead, whatever this order is.)
func resolverOrder(_ host: String) -> [String] {
    var hints = addrinfo()
    hints.ai_socktype = CInt(SOCK_DGRAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
    defer { freeaddrinfo(list) }
    var addresses: [String] = []
    var entry = list
    while let info = entry {
        entry = info.pointee.ai_next
        guard let address = info.pointee.ai_addr else { continue }
        let family = info.pointee.ai_family
        let offset =
            family == AF_INET6
            ? MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr)! : MemoryLayout<sockaddr_in>.offset(of: \.sin_addr)!
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, UnsafeRawPointer(address) + offset, &text, socklen_t(text.count)) != nil else {
            continue
        }
        let name = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if !addresses.contains(name) { addresses.append(name) }
    }
    return addresses
}
