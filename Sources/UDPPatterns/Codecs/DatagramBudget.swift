/// The largest datagram a sender allows itself, frame header included: messages that would exceed it are
/// refused before they are sent, with both sizes named, instead of being fragmented or dropped on the way.
///
/// - ``internet``, 1200 bytes, the default: the UDP payload QUIC (RFC 9000 §14) relies on crossing any
///   Internet path, IPv4 or IPv6, tunnels included, without fragmentation.
/// - ``ethernet``, 1472 bytes: a 1500-byte Ethernet MTU less the IPv4 (20) and UDP (8) headers; for a LAN
///   you control. Over IPv6 the same link carries 1452.
/// - `DatagramBudget(bytes:)` for anything else, such as 65,507 on loopback.
public struct DatagramBudget: Sendable, Hashable, CustomStringConvertible {
    /// A message whose datagram would exceed the budget.
    public struct Exceeded: Error, Sendable, Hashable, CustomStringConvertible {
        /// The datagram's size: frame overhead plus encoded payload.
        public var size: Int
        /// The budget it exceeds.
        public var budget: Int

        /// Creates the error.
        public init(size: Int, budget: Int) {
            self.size = size
            self.budget = budget
        }

        /// `message of 1830 bytes exceeds the datagram budget of 1200 bytes`
        public var description: String {
            "message of \(size) bytes exceeds the datagram budget of \(budget) bytes"
        }
    }

    /// The open-Internet target, 1200 bytes.
    public static let internet = DatagramBudget(bytes: 1200)
    /// An Ethernet LAN over IPv4, 1472 bytes.
    public static let ethernet = DatagramBudget(bytes: 1472)

    /// The largest datagram allowed, in bytes, frame header included.
    public let bytes: Int
    /// Bytes of each datagram taken by framing: ``FrameHeader/maximumSize`` (16) by default; 0 for
    /// unframed payloads.
    public let frameOverhead: Int

    /// Creates a budget.
    ///
    /// - Parameters:
    ///   - bytes: The largest datagram, framing included: at most 65,535, which no UDP payload exceeds.
    ///   - frameOverhead: What framing adds to each payload.
    ///
    /// A budget that leaves no room for a payload, or exceeds 65,535 bytes, is a programming error and
    /// stops the program.
    public init(bytes: Int, frameOverhead: Int = FrameHeader.maximumSize) {
        precondition(frameOverhead >= 0, "the frame overhead cannot be negative")
        precondition(bytes > frameOverhead, "a budget of \(bytes) bytes leaves no room for a payload")
        precondition(bytes <= 65_535, "a budget of \(bytes) bytes is larger than any UDP datagram")
        self.bytes = bytes
        self.frameOverhead = frameOverhead
    }

    /// The largest payload that fits: ``bytes`` less ``frameOverhead``.
    public var maximumPayload: Int { bytes - frameOverhead }

    /// Checks that a payload of `payloadSize` bytes fits.
    ///
    /// - Throws: ``Exceeded`` naming the framed size and the budget.
    public func check(payloadSize: Int) throws(Exceeded) {
        if payloadSize > maximumPayload { throw Exceeded(size: payloadSize + frameOverhead, budget: bytes) }
    }

    /// `1200 bytes`
    public var description: String { "\(bytes) bytes" }
}
