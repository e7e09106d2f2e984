/// Decimal text for the numbers in summaries and JSON, without Foundation.
package enum NumberFormat {
    /// `value` with exactly `decimals` digits after the point, rounded half away from zero:
    /// `fixed(0.0712, 3)` is `0.071`. Infinity and NaN, which no summary should produce, print as `0`.
    package static func fixed(_ value: Double, _ decimals: Int) -> String {
        precondition((0...9).contains(decimals))
        guard value.isFinite else { return "0" }
        var scale: UInt64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (value.magnitude * Double(scale)).rounded()
        // Past 2^63 the integer path would overflow; such a number has no useful fraction left anyway.
        guard scaled < 9.2e18 else { return value < 0 ? "-" + String(value.magnitude) : String(value) }
        let units = UInt64(scaled)
        var text = value < 0 && units != 0 ? "-" : ""
        text += String(units / scale)
        if decimals > 0 {
            let fraction = String(units % scale)
            text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
        }
        return text
    }

    /// Like ``fixed(_:_:)`` without trailing zeros or a bare point: `16.667`, `0.5`, `100`.
    package static func trimmed(_ value: Double, maximumDecimals: Int) -> String {
        var text = fixed(value, maximumDecimals)
        guard text.contains(".") else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// A percentage for people: up to 3 decimals (`16.667`, `0`, `100`), and up to 6 for a share so small
    /// that 3 would show it as `0` (`0.0001`): some loss never reads as none.
    package static func percent(_ value: Double) -> String {
        let text = trimmed(value, maximumDecimals: 3)
        return text == "0" && value > 0 ? trimmed(value, maximumDecimals: 6) : text
    }

    /// Nanoseconds as milliseconds with 3 decimals (`71_400` is `0.071`), as ping(8) prints its summary.
    package static func milliseconds(nanoseconds: Double) -> String {
        fixed(nanoseconds / 1e6, 3)
    }

    /// `duration` as ``roundTrip(nanoseconds:)`` writes it (0 for a negative one).
    package static func roundTrip(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        guard duration > .zero else { return roundTrip(nanoseconds: 0) }
        return roundTrip(nanoseconds: UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000))
    }

    /// One round-trip time the way ping(8) prints it: 3 significant decimals below 1 ms, fewer above
    /// (`0.071`, `1.23`, `12.3`, `123`), in milliseconds, from microsecond precision.
    package static func roundTrip(nanoseconds: UInt64) -> String {
        let microseconds = (nanoseconds + 500) / 1000
        let whole = String(microseconds / 1000)
        let fraction = microseconds % 1000
        switch microseconds {
        case 100_000...: return whole
        case 10_000...: return whole + "." + String(fraction / 100)
        case 1000...: return whole + "." + padded(fraction / 10, 2)
        default: return whole + "." + padded(fraction, 3)
        }
    }

    private static func padded(_ value: UInt64, _ digits: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

extension NumberFormat {
    /// Seconds as a person writes them: rounded to the millisecond, no trailing zeros (`2`, `0.5`, `2.1`).
    package static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        // Rounded, not truncated: 0.3 + 0.6 + 1.2 s add up to 2.0999… in binary and must print as 2.1.
        let milliseconds = Int(seconds) * 1000 + Int((attoseconds + 500_000_000_000_000) / 1_000_000_000_000_000)
        if milliseconds % 1000 == 0 { return String(milliseconds / 1000) }
        var text = String(Double(milliseconds) / 1000)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
