// dig's text for a message (BIND 9's masterdump style), as library API so that any tool built on the codec
// prints what people already read: the header's two lines, the EDNS pseudo-section, and one line per record
// with its fields in dig's tab-stop columns.

extension DNSMessage {
    /// An opcode's name as dig prints it: `QUERY`, `IQUERY`, `STATUS`, `NOTIFY`, `UPDATE`, or `RESERVED` and
    /// the number.
    public static func opcodeName(_ opcode: UInt8) -> String {
        switch opcode {
        case 0: "QUERY"
        case 1: "IQUERY"
        case 2: "STATUS"
        case 4: "NOTIFY"
        case 5: "UPDATE"
        default: "RESERVED\(opcode)"
        }
    }

    /// A response code's name as dig prints it (`NOERROR`, `NXDOMAIN`, `SERVFAIL`, `REFUSED`, …; RFC 6895 §2.3),
    /// or `RESERVED` and the number for one without a name.
    public static func responseCodeName(_ code: UInt16) -> String {
        let names = [
            "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET",
            "NOTAUTH", "NOTZONE", "DSOTYPENI",
        ]
        if Int(code) < names.count { return names[Int(code)] }
        switch code {
        case 16: return "BADVERS"
        case 23: return "BADCOOKIE"
        default: return "RESERVED\(code)"
        }
    }

    /// A class's name as dig prints it: `IN`, `CH`, `HS`, `NONE`, `ANY`, or `CLASS` and the number.
    public static func className(_ rawClass: UInt16) -> String {
        switch rawClass {
        case 1: "IN"
        case 3: "CH"
        case 4: "HS"
        case 254: "NONE"
        case 255: "ANY"
        default: "CLASS\(rawClass)"
        }
    }

    /// The header flags that are set, in dig's order and words: `qr aa tc rd ra ad cd`.
    public var flagNames: [String] {
        let bits: [(UInt16, String)] = [
            (0x8000, "qr"), (0x0400, "aa"), (0x0200, "tc"), (0x0100, "rd"), (0x0080, "ra"), (0x0020, "ad"),
            (0x0010, "cd"),
        ]
        return bits.filter { flags & $0.0 != 0 }.map(\.1)
    }

    /// dig's two header lines:
    ///
    ///     ;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4321
    ///     ;; flags: qr aa rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1
    ///
    /// - Parameter edns: The message's EDNS information, which extends the response code.
    public func headerLines(edns: EDNS?) -> [String] {
        let status = Self.responseCodeName(responseCode(extendedBy: edns))
        return [
            ";; ->>HEADER<<- opcode: \(Self.opcodeName(opcode)), status: \(status), id: \(id)",
            ";; flags: \(flagNames.joined(separator: " ")); QUERY: \(questions.count), ANSWER: \(answers.count), "
                + "AUTHORITY: \(authorities.count), ADDITIONAL: \(additionals.count)",
        ]
    }
}

extension DNSRecord {
    /// The record as one line of dig's output, its fields at dig's tab stops (TTL at column 24, class at 32,
    /// type at 40, data at 48; a field that runs past its stop is followed by one space):
    ///
    ///     example.test.		300	IN	MX	10 mail.example.test.
    public var presentation: String {
        DNSColumns.line([
            (name.presentation, 24), (String(ttl), 32), (DNSMessage.className(rawClass), 40),
            (type.description, 48), (data.presentation, nil),
        ])
    }
}

extension DNSQuestion {
    /// The question as dig prints it in its question section: `;example.test.		IN	MX` (the class at
    /// column 32, or one space after a longer name, then a tab and the type).
    public var presentation: String {
        DNSColumns.line([
            (";" + name.presentation, 32), (DNSMessage.className(rawClass) + "\t" + type.description, nil),
        ])
    }
}

extension EDNS {
    /// dig's OPT pseudo-section: `; EDNS: version: 0, flags: do; udp: 1232`, then a line per option it knows
    /// (an extended error as `; EDE: 14 (Not Ready)`, a cookie, a server id) and `; OPT=N: HEX` for others.
    public var presentationLines: [String] {
        let flags = dnssecOK ? " do" : ""
        var lines = ["; EDNS: version: \(version), flags:\(flags); udp: \(udpPayloadSize)"]
        for option in options {
            let hex = option.data.map { byte in
                let text = String(byte, radix: 16, uppercase: true)
                return text.count == 1 ? "0" + text : text
            }.joined()
            switch option.code {
            case Option.extendedErrorCode where option.data.count >= 2:
                let code = UInt16(option.data[0]) << 8 | UInt16(option.data[1])
                let name = Self.extendedErrorNames[Int(code)].map { " (\($0))" } ?? ""
                let extra = option.data.count > 2 ? ": " + DNSRecordData.quoted(Array(option.data[2...])) : ""
                lines.append("; EDE: \(code)\(name)\(extra)")
            case Option.cookieCode: lines.append("; COOKIE: \(hex)")
            case Option.nameServerIdentifierCode: lines.append("; NSID: \(hex)")
            default: lines.append("; OPT=\(option.code): \(hex)")
            }
        }
        return lines
    }

    /// RFC 8914 §4's info codes 0-24, in dig's words.
    static let extendedErrorNames: [Int: String] = [
        0: "Other", 1: "Unsupported DNSKEY Algorithm", 2: "Unsupported DS Digest Type", 3: "Stale Answer",
        4: "Forged Answer", 5: "DNSSEC Indeterminate", 6: "DNSSEC Bogus", 7: "Signature Expired",
        8: "Signature Not Yet Valid", 9: "DNSKEY Missing", 10: "RRSIGs Missing", 11: "No Zone Key Bit Set",
        12: "NSEC Missing", 13: "Cached Error", 14: "Not Ready", 15: "Blocked", 16: "Censored", 17: "Filtered",
        18: "Prohibited", 19: "Stale NXDOMAIN Answer", 20: "Not Authoritative", 21: "Not Supported",
        22: "No Reachable Authority", 23: "Network Error", 24: "Invalid Data",
    ]
}

/// BIND's column layout: each field is followed by tabs (8 columns wide) up to its stop, or by one space when
/// it already reaches the stop.
enum DNSColumns {
    static func line(_ fields: [(text: String, stop: Int?)]) -> String {
        var line = ""
        var column = 0
        for (text, stop) in fields {
            line += text
            column += text.unicodeScalars.count
            guard var stop else { continue }
            stop = max(stop, column + 1)
            let tabs = stop / 8 - column / 8
            if tabs > 0 {
                line += String(repeating: "\t", count: tabs)
                column = stop / 8 * 8
            }
            line += String(repeating: " ", count: stop - column)
            column = stop
        }
        return line
    }
}
