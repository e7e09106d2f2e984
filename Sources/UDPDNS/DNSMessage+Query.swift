extension DNSMessage {
    /// Opcode 0, a standard query.
    public static let standardQuery: UInt8 = 0

    /// A standard query for one question, as a stub resolver sends it.
    ///
    /// - Parameters:
    ///   - id: The id the reply must carry; draw it at random for every query (RFC 5452 §9.2).
    ///   - question: What is asked.
    ///   - recursionDesired: RD: ask the server to resolve the name for us (what a stub wants).
    ///   - edns: The OPT record to add (RFC 6891), or nil to send a plain RFC 1035 query.
    public static func query(
        id: UInt16,
        question: DNSQuestion,
        recursionDesired: Bool = true,
        edns: EDNS? = EDNS()
    ) -> DNSMessage {
        var message = DNSMessage(id: id, questions: [question], additionals: edns.map { [$0.record] } ?? [])
        message.recursionDesired = recursionDesired
        return message
    }

    /// The whole response code (RFC 6891 §6.1.3): the header's 4 bits, extended by the OPT record's upper 8
    /// when there is one (16, BADVERS, needs them).
    public func responseCode(extendedBy edns: EDNS?) -> UInt16 {
        UInt16(edns?.extendedResponseCode ?? 0) << 4 | UInt16(responseCode)
    }
}
