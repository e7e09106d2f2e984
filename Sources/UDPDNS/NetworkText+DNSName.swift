import UDPPatterns

extension NetworkText {
    /// A DNS name, in ``DNSName``'s text form (`Web Server._http._tcp.local`, non-printable bytes as `\DDD`).
    package init(name: DNSName) { self.init(name.description) }
}
