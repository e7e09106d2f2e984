import UDP

/// An NTP timestamp (RFC 5905 §6): seconds since 1900 in the high 32 bits, the fraction of a second in the low
/// 32, wrapping every 136 years (the next era begins in 2036).
///
/// Differences are taken modulo 2⁶⁴ and read as signed (``duration(since:)``), as RFC 5905 does, so they stay right
/// across an era boundary as long as the two times are within 68 years of each other.
public struct NTPTimestamp: Hashable, Sendable, CustomStringConvertible {
    /// The 64 bits as they go on the wire.
    public var rawValue: UInt64

    /// Creates a timestamp from its 64 bits as they go on the wire: seconds since 1900 in the high half, the
    /// fraction in the low.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Seconds from 1900 to 1970, the Unix epoch.
    static let unixEpochOffset: UInt64 = 2_208_988_800

    /// The NTP timestamp of a wall-clock time: T1 or T4 as this host's clock or its kernel read it.
    public init(_ time: WallClockTime) {
        let nanoseconds = time.nanosecondsSince1970
        let seconds = nanoseconds / 1_000_000_000 &+ Self.unixEpochOffset
        let fraction = (nanoseconds % 1_000_000_000) << 32 / 1_000_000_000
        rawValue = seconds << 32 | fraction
    }

    /// The wall-clock time this timestamp names, read in the era that holds 1970 to 2106: seconds below the
    /// Unix epoch's count belong to the next era (after 2036), as RFC 4330 §3 reads them.
    public var wallClockTime: WallClockTime {
        var seconds = rawValue >> 32
        if seconds < Self.unixEpochOffset { seconds += 1 << 32 }
        let nanoseconds = ((rawValue & 0xFFFF_FFFF) * 1_000_000_000) >> 32
        return WallClockTime(nanosecondsSince1970: (seconds - Self.unixEpochOffset) * 1_000_000_000 + nanoseconds)
    }

    /// Zero: a field that was never set ("unknown" in RFC 5905).
    public static let zero = NTPTimestamp(rawValue: 0)

    /// `self - earlier`, positive when `self` is later, to the attosecond below.
    public func duration(since earlier: NTPTimestamp) -> Duration {
        let difference = Int64(bitPattern: rawValue &- earlier.rawValue)
        // The high 32 bits are whole seconds (arithmetic shift: floor for a negative difference) and the low 32
        // a fraction in units of 2⁻³² s, always added: 2⁻³² s × 10¹⁸ is no whole number of attoseconds.
        let fraction = UInt64(truncatingIfNeeded: difference) & 0xFFFF_FFFF
        let scaled = fraction.multipliedFullWidth(by: 1_000_000_000_000_000_000)
        let attoseconds = scaled.high << 32 | scaled.low >> 32
        return .seconds(difference >> 32) + Duration(secondsComponent: 0, attosecondsComponent: Int64(attoseconds))
    }

    /// Seconds and fraction as hexadecimal, as ntpq prints them: `e9a1c2b3.1a2b3c4d`.
    public var description: String {
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
        }
        return hex(rawValue >> 32) + "." + hex(rawValue & 0xFFFF_FFFF)
    }
}
