/// The anti-replay sliding window of IPsec and WireGuard (RFC 6479): accepts each sequence number once, and
/// refuses numbers too far behind the newest seen.
///
/// A bitmap of ``size`` bits remembers which of the latest numbers have been seen. Numbers may arrive out
/// of order within the window (UDP reorders); a number seen before is a replay; one older than the window
/// cannot be told from a replay and is refused too.
public struct ReplayWindow: Sendable {
    /// What the window says of a sequence number.
    public enum Verdict: Sendable, Equatable {
        /// New: accept it (the window has recorded it).
        case accepted
        /// Seen before.
        case replayed
        /// Older than the window reaches.
        case tooOld
    }

    /// How many of the latest numbers are remembered.
    public static let size: UInt64 = 1024
    private static let words = Int(size / 64)

    /// The highest number accepted so far, or nil before the first.
    public private(set) var highest: UInt64?
    private var bitmap = [UInt64](repeating: 0, count: ReplayWindow.words)

    /// An empty window: the first number checked is accepted, whatever it is.
    public init() {}

    /// Checks `sequence` and records it if new. Call it only for datagrams that authenticated, so a forger
    /// cannot move the window.
    public mutating func check(_ sequence: UInt64) -> Verdict {
        guard let highest else {
            self.highest = sequence
            set(sequence)
            return .accepted
        }
        if sequence > highest {
            // Clear the bits of the numbers skipped over (at most the whole window).
            let advance = sequence - highest
            if advance >= Self.size {
                bitmap = [UInt64](repeating: 0, count: Self.words)
            } else {
                var number = highest + 1
                while number < sequence {
                    clear(number)
                    number += 1
                }
            }
            self.highest = sequence
            set(sequence)
            return .accepted
        }
        if highest - sequence >= Self.size { return .tooOld }
        if isSet(sequence) { return .replayed }
        set(sequence)
        return .accepted
    }

    private func position(_ number: UInt64) -> (word: Int, bit: UInt64) {
        let slot = number % Self.size
        return (Int(slot / 64), slot % 64)
    }

    private func isSet(_ number: UInt64) -> Bool {
        let (word, bit) = position(number)
        return bitmap[word] & (1 << bit) != 0
    }

    private mutating func set(_ number: UInt64) {
        let (word, bit) = position(number)
        bitmap[word] |= 1 << bit
    }

    private mutating func clear(_ number: UInt64) {
        let (word, bit) = position(number)
        bitmap[word] &= ~(1 << bit)
    }
}
