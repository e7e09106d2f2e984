/// A small, fast, reproducible random number generator (SplitMix64): the same seed gives the same
/// sequence on every run and platform. For tests and simulations — jitter in a fake-clock test, a
/// reproducible loss pattern — never for anything an attacker must not predict.
///
/// ```swift
/// var generator = SeededGenerator(seed: 7)
/// let client = RequestReplyClient(policy: policy, generator: SeededGenerator(seed: 7))
/// ```
///
/// SplitMix64 (Steele, Lea and Flood, 2014) passes BigCrush and needs only one word of state.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64

    /// Creates a generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        self.state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension RandomNumberGenerator {
    /// True with probability `probability` (0…1): one draw, none when the probability is 0, so a fault that
    /// is off does not shift the sequence the others draw from.
    public mutating func chance(_ probability: Double) -> Bool {
        probability > 0 && Double.random(in: 0..<1, using: &self) < probability
    }
}
