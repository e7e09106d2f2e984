/// One JSON object, written by hand with its keys in the order they were added: the machine-readable last
/// line of `udp ping --json` and `udp bench --json`, and the JSON forms the protocol modules give their events.
package struct JSONObject {
    private var members: [String] = []

    /// An empty object: `{}`.
    package init() {}

    /// An integer.
    package mutating func add(_ key: String, _ value: Int) {
        members.append(Self.quoted(key) + ": " + String(value))
    }

    /// A number with up to `decimals` decimals; `null` when there is none (no reply, so no latency).
    package mutating func add(_ key: String, _ value: Double?, decimals: Int) {
        let number = value.flatMap { $0.isFinite ? NumberFormat.trimmed($0, maximumDecimals: decimals) : nil }
        members.append(Self.quoted(key) + ": " + (number ?? "null"))
    }

    /// A string, or `null`.
    package mutating func add(_ key: String, _ value: String?) {
        members.append(Self.quoted(key) + ": " + (value.map(Self.quoted) ?? "null"))
    }

    /// A string from the network, in its JSON form (``NetworkText/json``), or `null`.
    package mutating func add(_ key: String, _ value: NetworkText?) {
        members.append(Self.quoted(key) + ": " + (value?.json ?? "null"))
    }

    /// `true` or `false`.
    package mutating func add(_ key: String, _ value: Bool) {
        members.append(Self.quoted(key) + ": " + (value ? "true" : "false"))
    }

    /// A value already written as JSON (an array, an object).
    package mutating func addRaw(_ key: String, _ json: String) {
        members.append(Self.quoted(key) + ": " + json)
    }

    /// The object on one line.
    package var text: String { "{" + members.joined(separator: ", ") + "}" }

    /// `text` as a JSON string: quotes, backslashes and control characters escaped (RFC 8259 section 7), the
    /// control characters being those of ``NetworkText/isControl(_:)``: DEL, C1, the line separators and the
    /// bidirectional controls too, as `\uXXXX`, so that JSON read on a terminal cannot drive it.
    package static func quoted(_ text: String) -> String {
        let digits = Array("0123456789abcdef".unicodeScalars)
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where NetworkText.isControl(scalar):
                out += "\\u"
                for shift in [12, 8, 4, 0] { out.unicodeScalars.append(digits[Int(scalar.value >> shift & 0xF)]) }
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
