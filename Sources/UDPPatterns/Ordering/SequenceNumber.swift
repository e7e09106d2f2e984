/// A 32-bit sequence number compared by serial-number arithmetic (RFC 1982), so order survives the wrap
/// from `0xFFFF_FFFF` to `0`.
///
/// `a < b` when `b` is less than 2³¹ steps ahead of `a`, counting forwards modulo 2³²: `0xFFFF_FFFF < 0`
/// and `0xFFFF_FFF0 < 5`. A stream that sends a few thousand datagrams a second wraps a 32-bit counter in
/// days, so a plain `UInt32` comparison would one day call every new datagram old.
///
/// Two numbers exactly 2³¹ apart are left undefined by RFC 1982 (§3.2); here neither is less than the other.
/// The order is not transitive across more than half the number space, so sorting only makes sense for
/// numbers that lie within 2³¹ of each other, which is what a sliding window guarantees.
public struct SequenceNumber: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible,
    ExpressibleByIntegerLiteral
{
    /// The number as it travels on the wire.
    public var rawValue: UInt32

    /// Wraps a number read from the wire.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Wraps a number read from the wire.
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// Allows `let first: SequenceNumber = 0` and `buffer.receive(7, element, now: now)`.
    public init(integerLiteral value: UInt32) { self.rawValue = value }

    /// Whether `lhs` comes before `rhs` (RFC 1982 §3.2): `rhs` is 1 to 2³¹ − 1 steps ahead.
    public static func < (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool {
        lhs.distance(to: rhs) > 0
    }

    /// The signed number of steps from `self` forwards to `other`, in −2³¹ + 1 … 2³¹ − 1, or −2³¹ for the
    /// undefined case (exactly half the space apart).
    ///
    /// `SequenceNumber(0xFFFF_FFFE).distance(to: 1)` is 3.
    public func distance(to other: SequenceNumber) -> Int {
        Int(Int32(bitPattern: other.rawValue &- rawValue))
    }

    /// The number `steps` ahead, wrapping modulo 2³² (RFC 1982 §3.1 allows adding 0 … 2³¹ − 1).
    public static func + (lhs: SequenceNumber, steps: UInt32) -> SequenceNumber {
        SequenceNumber(lhs.rawValue &+ steps)
    }

    /// Moves the number `steps` ahead, wrapping modulo 2³².
    public static func += (lhs: inout SequenceNumber, steps: UInt32) {
        lhs.rawValue &+= steps
    }

    /// The number `steps` away (negative goes back), wrapping modulo 2³².
    public func advanced(by steps: Int) -> SequenceNumber {
        SequenceNumber(rawValue &+ UInt32(truncatingIfNeeded: steps))
    }

    /// The decimal value, as packet captures show it.
    public var description: String { String(rawValue) }
}
