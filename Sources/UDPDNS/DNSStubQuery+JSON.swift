import UDP
import UDPPatterns

extension DNSStubQuery.Answer {
    /// The reply's fields of `udp dns --json`: `id`, `opcode`, `rcode`, `flags`, `truncated`, the sections
    /// (records as `name`, `type`, `class`, `ttl`, `data` in dig's form), `rtt_us`, `try`, `size`.
    package func addFields(to object: inout JSONObject) {
        let message = reply.message
        object.add("id", Int(message.id))
        object.add("opcode", DNSMessage.opcodeName(message.opcode))
        object.add("rcode", DNSMessage.responseCodeName(reply.responseCode))
        object.addRaw("flags", "[" + message.flagNames.map(JSONObject.quoted).joined(separator: ", ") + "]")
        object.add("truncated", message.isTruncated)
        object.addRaw("answers", DNSAnswerJSON.records(message.answers))
        object.addRaw("authority", DNSAnswerJSON.records(message.authorities))
        object.addRaw("additional", DNSAnswerJSON.records(message.additionals.filter { $0.type != .opt }))
        object.add("rtt_us", roundTrip > .zero ? roundTrip / .microseconds(1) : 0, decimals: 3)
        object.add("try", attempt)
        object.add("size", reply.size)
    }
}

/// The JSON pieces of `udp dns` that are not one reply's.
package enum DNSAnswerJSON {
    /// The object `udp dns --json` prints: `server`, `name`, `type`, the reply's fields (``DNSStubQuery/Answer``'s,
    /// or the same keys null and empty without one), `ignored` and `ignored_reasons`.
    package static func object(
        server: SocketAddress,
        question: DNSQuestion,
        answer: DNSStubQuery.Answer?,
        ignored: DNSIgnoredCounts
    ) -> JSONObject {
        var object = JSONObject()
        object.add("server", server.description)
        object.add("name", question.name.presentation)
        object.add("type", question.type.description)
        if let answer { answer.addFields(to: &object) } else { addNoReply(to: &object) }
        ignored.addFields(to: &object)
        return object
    }

    /// Records as an array of objects.
    package static func records(_ records: [DNSRecord]) -> String {
        let objects = records.map { record in
            var object = JSONObject()
            object.add("name", NetworkText(record.name.presentation))
            object.add("type", record.type.description)
            object.add("class", DNSMessage.className(record.rawClass))
            object.add("ttl", Int(record.ttl))
            object.add("data", NetworkText(record.data.presentation))
            return object.text
        }
        return "[" + objects.joined(separator: ", ") + "]"
    }

    /// The reply's keys when no reply came: null or empty, so a script reads the same keys either way.
    package static func addNoReply(to object: inout JSONObject) {
        object.add("id", nil as String?)
        object.add("opcode", nil as String?)
        object.add("rcode", nil as String?)
        object.addRaw("flags", "[]")
        object.add("truncated", false)
        for key in ["answers", "authority", "additional"] { object.addRaw(key, "[]") }
        object.add("rtt_us", nil, decimals: 3)
        object.add("try", nil as String?)
        object.add("size", nil as String?)
    }
}

extension DNSIgnoredCounts {
    /// `"ignored": 3, "ignored_reasons": {"wrong_id": 2, "wrong_source": 1}`.
    package func addFields(to object: inout JSONObject) {
        object.add("ignored", total)
        var reasons = JSONObject()
        for (reason, count) in byReason { reasons.add(reason.rawValue, count) }
        object.addRaw("ignored_reasons", reasons.text)
    }
}
