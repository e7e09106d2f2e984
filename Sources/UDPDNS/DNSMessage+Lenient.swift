extension DNSMessage {
    /// A message decoded leniently, and how many of its records were left out.
    public struct LenientDecoding: Hashable, Sendable {
        /// The header, the questions, and every record that decoded.
        public var message: DNSMessage
        /// Records left out: each one whose data did not decode (skipped by its RDLENGTH), plus one for the rest
        /// of the packet when a record's owner name or fixed fields were unreadable or its RDLENGTH ran past the
        /// end. That rest counts once, however many records the header claimed: a count is a claim (a forged
        /// ANCOUNT of 65535 is one bad packet, not 65535 bad records), and with no way to find where the next
        /// record starts nothing says how many the remaining bytes held.
        public var skippedRecords: Int
    }

    /// Decodes a message as multicast DNS reads one (RFC 6762 §18 asks receivers to be liberal): a record whose
    /// data is malformed is skipped by its RDLENGTH and counted, and the records around it are kept.
    ///
    /// A record is skipped, not the whole packet, when its data is wrong for its type (an A record of 5 bytes,
    /// a PTR whose name loops or runs past the data). When its owner name, type, class, TTL or RDLENGTH cannot be
    /// read, or the data it claims runs past the end of the packet, nothing marks where the next record starts:
    /// decoding stops there, keeps what came before, and counts the rest as one skipped record. Every bound of
    /// ``init(decoding:)`` still holds: pointers lead strictly backwards, names are at most 255 bytes, and a
    /// section's count is a claim checked against the bytes left before anything is reserved for it.
    ///
    /// - Throws: ``DNSError`` when the header or a question is unreadable: then nothing says what the message is.
    public static func decodingLeniently(_ bytes: some Collection<UInt8>) throws(DNSError) -> LenientDecoding {
        var reader = DNSReader(Array(bytes))
        let (id, flags, counts, questions) = try reader.headerAndQuestions()
        var sections: [[DNSRecord]] = [[], [], []]
        var skipped = 0
        sections: for (index, count) in counts.enumerated() {
            for _ in 0..<Int(count) {
                switch reader.recordLeniently() {
                case .record(let record): sections[index].append(record)
                case .skipped: skipped += 1
                case .lost:
                    // The rest of the packet, counted once (see `skippedRecords`).
                    skipped += 1
                    break sections
                }
            }
        }
        let message = DNSMessage(
            id: id,
            flags: flags,
            questions: questions,
            answers: sections[0],
            authorities: sections[1],
            additionals: sections[2]
        )
        return LenientDecoding(message: message, skippedRecords: skipped)
    }
}

extension DNSReader {
    /// What reading one record leniently gave.
    enum LenientRecord {
        /// The record, whole.
        case record(DNSRecord)
        /// Its data did not decode; the reader is past it, at the next record.
        case skipped
        /// Its start or its length could not be read: where the next record starts is unknown.
        case lost
    }

    /// One record, or a skip past its RDLENGTH when only its data is malformed.
    mutating func recordLeniently() -> LenientRecord {
        let start = position
        // A whole record first: most are. Finding where each record ends before reading it read every owner name
        // twice, most of what decoding a flood cost.
        if let record = try? record() { return .record(record) }
        position = start
        do throws(DNSError) {
            _ = try name()
            _ = try take(8)  // type, class, TTL
            let length = Int(try uint16())
            guard position + length <= bytes.count else { return .lost }
            position += length
            return .skipped
        } catch {
            return .lost
        }
    }
}
