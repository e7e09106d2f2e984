import UDPDNS

extension DNSStartOfAuthority {
    /// The SOA of the tests' zone example.test, with the values dig's expected output shows.
    static let exampleTest = DNSStartOfAuthority(
        primaryServer: DNSName("ns.example.test")!,
        mailbox: DNSName("hostmaster.example.test")!,
        serial: 2_026_120_401,
        refresh: 3600,
        retry: 900,
        expire: 604_800,
        minimum: 300
    )
}
