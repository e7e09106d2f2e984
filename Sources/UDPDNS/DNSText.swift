import UDP
import UDPPatterns

/// What `udp dns` prints for a stub query, in dig's layout: the message writes each line (header, question,
/// records, EDNS), this puts them in dig's sections with dig's footer, and words the probe lines, the verbose
/// lines and the failure.
package enum DNSText {
    /// The reply as dig prints it without options, up to `;; MSG SIZE  rcvd: 55`.
    package static func reply(_ answer: DNSStubQuery.Answer, question: DNSQuestion) -> [String] {
        let reply = answer.reply
        let message = reply.message
        var lines: [String] = []
        if message.isTruncated {
            lines.append(
                ";; Truncated reply (flag tc): the full answer needs TCP, which udp does not speak; ask with "
                    + "`dig +tcp \(digServer(answer.server)) \(question.name.presentation) \(question.type)`"
            )
        }
        if reply.recordsUnreadable {
            lines.append(";; The reply was cut inside a record: only its header and question are shown")
        }
        lines.append(";; Got answer:")
        lines += message.headerLines(edns: reply.edns)
        lines.append("")
        if let edns = reply.edns {
            lines.append(";; OPT PSEUDOSECTION:")
            lines += edns.presentationLines
        }
        lines.append(";; QUESTION SECTION:")
        lines += message.questions.map(\.presentation)
        let sections = [
            ("ANSWER", message.answers), ("AUTHORITY", message.authorities),
            ("ADDITIONAL", message.additionals.filter { $0.type != .opt }),
        ]
        for (title, records) in sections where !records.isEmpty {
            lines.append("")
            lines.append(";; \(title) SECTION:")
            lines += records.map(\.presentation)
        }
        lines.append("")
        let attempt = answer.attempt > 1 ? " (try \(answer.attempt))" : ""
        lines.append(
            ";; Query time: \(NumberFormat.roundTrip(answer.roundTrip)) msec\(attempt)"
        )
        lines.append(";; SERVER: \(answer.server.ip)#\(answer.server.port)(\(answer.server.ip)) (UDP)")
        lines.append(";; MSG SIZE  rcvd: \(reply.size)")
        return lines
    }

    /// One `--count` line: `55 bytes from 198.18.0.53:53: seq=1 time=0.312 ms NOERROR 1 answer`.
    package static func probeLine(_ answer: DNSStubQuery.Answer, sequence: Int) -> String {
        let reply = answer.reply
        let answers = reply.message.answers.count
        var line = "\(reply.size) bytes from \(answer.server): seq=\(sequence) "
        line += "time=\(NumberFormat.roundTrip(answer.roundTrip)) ms "
        line += DNSMessage.responseCodeName(reply.responseCode)
        line += " \(answers) answer" + (answers == 1 ? "" : "s")
        if reply.message.isTruncated { line += " (truncated)" }
        return line
    }

    /// The `--count` line for `event`: the reply (``probeLine(_:sequence:)``), or the query lost (`seq=3: port
    /// unreachable from …`, `no reply to seq=3 within 2 seconds`); for a query's own event, its `--verbose`
    /// line (``verboseLine(_:ports:)``).
    package static func pingLine(_ event: DNSPingSession.Event, timeout: String, ports: [UInt16]) -> String {
        switch event {
        case .answered(let sequence, let answer): probeLine(answer, sequence: sequence)
        case .lost(let sequence, let error?): "seq=\(sequence): \(error)"
        case .lost(let sequence, nil): "no reply to seq=\(sequence) within \(timeout) seconds"
        case .query(_, let event): verboseLine(event, ports: ports)
        }
    }

    /// The server as dig takes it: `@198.18.0.53`, with `-p PORT` unless it is 53.
    private static func digServer(_ server: SocketAddress) -> String {
        "@\(server.ip)" + (server.port == 53 ? "" : " -p \(server.port)")
    }

    /// A `--verbose` line on stderr: `;; try 1: 45 bytes, id 4660, from port 40312`, `;; ignored 4 bytes from
    /// 198.18.0.53:53: malformed`, `;; try 1: From 198.18.0.53: port unreachable`.
    package static func verboseLine(_ event: DNSStubQuery.Event, ports: [UInt16]) -> String {
        switch event {
        case .sent(let attempt, let id, let socket, let size):
            ";; try \(attempt): \(size) bytes, id \(id), from port \(ports[socket])"
        case .ignored(let sender, let length, let reason):
            ";; ignored \(length) bytes from \(sender): \(reason)"
        case .deliveryError(let error, let attempt):
            ";; try \(attempt): \(error)"
        }
    }

    /// `no reply from 198.18.0.53:53 (3 tries; port unreachable from 198.18.0.53; ignored 1 reply: wrong id)`.
    package static func noReply(
        _ server: SocketAddress,
        tries: Int,
        _ lastError: DeliveryError?,
        ignored: DNSIgnoredCounts
    ) -> String {
        var notes = [tries == 1 ? "1 try" : "\(tries) tries"]
        if let lastError {
            notes.append(lastError.offender.map { "\(lastError.kind) from \($0)" } ?? "\(lastError.kind)")
        }
        if ignored.total > 0 { notes.append(ignored.description) }
        return "no reply from \(server) (\(notes.joined(separator: "; ")))"
    }
}
