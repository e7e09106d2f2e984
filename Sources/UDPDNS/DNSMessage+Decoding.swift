import UDP

extension DNSMessage {
    /// Decodes a message received from the network.
    ///
    /// - Throws: ``DNSError`` for anything malformed. Bytes after the last record are ignored, as resolvers do.
    public init(decoding bytes: some Collection<UInt8>) throws(DNSError) {
        var reader = DNSReader(Array(bytes))
        try self.init(reading: &reader)
    }

    /// Decodes the header and the question section only, leaving the record sections empty: for a reply with
    /// the TC bit that a server cut inside a record (RFC 2181 §9 asks it not to, and some do), whose question
    /// still says what it answers.
    ///
    /// - Throws: ``DNSError`` when the header or a question is malformed.
    public init(decodingQuestionsOf bytes: some Collection<UInt8>) throws(DNSError) {
        var reader = DNSReader(Array(bytes))
        try self.init(reading: &reader, questionsOnly: true)
    }

    private init(reading reader: inout DNSReader, questionsOnly: Bool = false) throws(DNSError) {
        let (id, flags, counts, questions) = try reader.headerAndQuestions()
        var sections: [[DNSRecord]] = [[], [], []]
        for (index, (section, count)) in zip(["answer", "authority", "additional"], counts).enumerated()
        where !questionsOnly {
            try reader.checkRoom(for: Int(count), of: 11, section: section)
            var records: [DNSRecord] = []
            records.reserveCapacity(Int(count))
            for _ in 0..<count { records.append(try reader.record()) }
            sections[index] = records
        }
        self.init(
            id: id,
            flags: flags,
            questions: questions,
            answers: sections[0],
            authorities: sections[1],
            additionals: sections[2]
        )
    }
}

extension DNSReader {
    /// The header (id, flags, and the answer, authority and additional counts) and the questions, which every
    /// decoding reads the same way, strict or lenient.
    mutating func headerAndQuestions() throws(DNSError) -> (
        id: UInt16, flags: UInt16, recordCounts: [UInt16], questions: [DNSQuestion]
    ) {
        let id = try uint16()
        let flags = try uint16()
        let counts = [try uint16(), try uint16(), try uint16(), try uint16()]
        // Each question takes at least 5 bytes (the root name, type, class), each record 11: a count the rest of
        // the packet cannot hold is refused before anything is allocated for it.
        let questionCount = Int(counts[0])
        try checkRoom(for: questionCount, of: 5, section: "question")
        var questions: [DNSQuestion] = []
        questions.reserveCapacity(questionCount)
        for _ in 0..<questionCount {
            let questionName = try self.name()
            let type = DNSRecordType(rawValue: try uint16())
            questions.append(DNSQuestion(name: questionName, type: type, rawClass: try uint16()))
        }
        return (id, flags, Array(counts.dropFirst()), questions)
    }
}

/// Reads a DNS message's fields in order, checking every bound.
struct DNSReader {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func uint8() throws(DNSError) -> UInt8 {
        guard position < bytes.count else { throw .truncated(at: position) }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func uint16() throws(DNSError) -> UInt16 {
        guard position + 2 <= bytes.count else { throw .truncated(at: position) }
        defer { position += 2 }
        return UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])
    }

    mutating func uint32() throws(DNSError) -> UInt32 {
        UInt32(try uint16()) << 16 | UInt32(try uint16())
    }

    mutating func take(_ count: Int) throws(DNSError) -> ArraySlice<UInt8> {
        guard count >= 0, position + count <= bytes.count else { throw .truncated(at: position) }
        defer { position += count }
        return bytes[position..<position + count]
    }

    func checkRoom(for count: Int, of size: Int, section: String) throws(DNSError) {
        guard count * size <= bytes.count - position else { throw .countTooLarge(section: section, count: count) }
    }

    /// A name at the current position, following compression pointers, which must each lead strictly before
    /// the one before (the first before the name itself): a compressor only points back at names already
    /// written, and with every jump going lower no loop is possible.
    ///
    /// - Parameter limit: Where the name's own labels must end (the end of a record's data).
    mutating func name(limit: Int? = nil) throws(DNSError) -> DNSName {
        let end = min(limit ?? bytes.count, bytes.count)
        var labels: [[UInt8]] = []
        var wireLength = 1
        var cursor = position
        var lowestTarget = position
        var jumped = false
        while true {
            // Until the first jump the labels belong to this record and must end by `end`; after it they may be
            // anywhere earlier in the message.
            let bound = jumped ? bytes.count : end
            guard cursor < bound else { throw .truncated(at: cursor) }
            let length = bytes[cursor]
            switch length >> 6 {
            case 0:
                if length == 0 {
                    if !jumped { position = cursor + 1 }
                    return DNSName(checked: labels)
                }
                let start = cursor + 1
                guard start + Int(length) <= bound else { throw .truncated(at: cursor) }
                wireLength += 1 + Int(length)
                guard wireLength <= DNSName.maximumWireLength else { throw .nameTooLong(wireLength) }
                labels.append(Array(bytes[start..<start + Int(length)]))
                cursor = start + Int(length)
            case 3:
                guard cursor + 2 <= bound else { throw .truncated(at: cursor) }
                let target = Int(length & 0x3F) << 8 | Int(bytes[cursor + 1])
                guard target < bytes.count else { throw .pointerOutOfRange(at: cursor) }
                guard target < lowestTarget else { throw .compressionLoop(at: cursor) }
                if !jumped { position = cursor + 2 }
                jumped = true
                lowestTarget = target
                cursor = target
            default:
                throw .reservedLabelType(at: cursor)
            }
        }
    }

    /// One resource record: name, type, class, TTL, data length, data.
    mutating func record() throws(DNSError) -> DNSRecord {
        let name = try name()
        let type = DNSRecordType(rawValue: try uint16())
        let rawClass = try uint16()
        let ttl = try uint32()
        let length = Int(try uint16())
        let start = position
        guard start + length <= bytes.count else { throw .truncated(at: start) }
        let end = start + length
        let data = try recordData(type, end: end)
        guard position == end else { throw .badRecordData(type: type.rawValue, at: start) }
        return DNSRecord(name: name, rawClass: rawClass, ttl: ttl, data: data)
    }

    private mutating func recordData(_ type: DNSRecordType, end: Int) throws(DNSError) -> DNSRecordData {
        let start = position
        let length = end - start
        func bad() -> DNSError { .badRecordData(type: type.rawValue, at: start) }
        switch type {
        case .a:
            guard length == 4 else { throw bad() }
            let octets = try take(4)
            return .a(IPv4Address(octets[start], octets[start + 1], octets[start + 2], octets[start + 3]))
        case .aaaa:
            guard length == 16 else { throw bad() }
            let octets = try take(16)
            let high = octets.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = octets.suffix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return .aaaa(IPv6Address(high: high, low: low))
        case .ptr:
            return .ptr(try name(limit: end))
        case .ns:
            return .ns(try name(limit: end))
        case .cname:
            return .cname(try name(limit: end))
        case .mx:
            guard length >= 3 else { throw bad() }
            let preference = try uint16()
            return .mx(preference: preference, exchange: try name(limit: end))
        case .soa:
            let primaryServer = try name(limit: end)
            let mailbox = try name(limit: end)
            // Five 32-bit numbers follow the names, and nothing else.
            guard end - position == 20 else { throw bad() }
            return .soa(
                DNSStartOfAuthority(
                    primaryServer: primaryServer,
                    mailbox: mailbox,
                    serial: try uint32(),
                    refresh: try uint32(),
                    retry: try uint32(),
                    expire: try uint32(),
                    minimum: try uint32()
                )
            )
        case .srv:
            guard length >= 7 else { throw bad() }
            let priority = try uint16()
            let weight = try uint16()
            let port = try uint16()
            return .srv(priority: priority, weight: weight, port: port, target: try name(limit: end))
        case .txt:
            var strings: [[UInt8]] = []
            while position < end {
                let count = Int(try uint8())
                guard position + count <= end else { throw bad() }
                strings.append(Array(try take(count)))
            }
            return .txt(strings)
        case .nsec:
            let next = try name(limit: end)
            var types: [DNSRecordType] = []
            while position < end {
                guard position + 2 <= end else { throw bad() }
                let window = Int(try uint8())
                let count = Int(try uint8())
                guard (1...32).contains(count), position + count <= end else { throw bad() }
                for (index, byte) in try take(count).enumerated() where byte != 0 {
                    for bit in 0..<8 where byte & (0x80 >> bit) != 0 {
                        types.append(DNSRecordType(rawValue: UInt16(window << 8 | index << 3 | bit)))
                    }
                }
            }
            return .nsec(next: next, types: types)
        default:
            return .unknown(type: type, bytes: Array(try take(length)))
        }
    }
}
