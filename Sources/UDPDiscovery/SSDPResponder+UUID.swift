import UDPPatterns

extension SSDPResponder {
    /// A random (version 4) UUID, as text (`2f4c…-…`): a device's identity when none is given, for the `uuid:`
    /// of its advertisements.
    public static func randomUUID() -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { PayloadFormat.hex(bytes[$0]) }.joined(separator: "-")
    }
}
