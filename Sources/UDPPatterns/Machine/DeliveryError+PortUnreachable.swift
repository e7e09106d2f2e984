import UDP

extension DeliveryError {
    /// The ICMP port unreachable that `destination`'s host sends back about a datagram to it, quoting `quote`,
    /// as the kernel reports it (ICMP type 3 code 3, or ICMPv6 type 1 code 4): what a test hands a machine's
    /// ``DatagramMachine/handleDeliveryError(_:socket:at:)``, through ``MachineHarness/deliver(_:socket:)``.
    public static func portUnreachable(to destination: SocketAddress, quoting quote: [UInt8]) -> DeliveryError {
        let isV4 = if case .v4 = destination.ip.unmapped { true } else { false }
        return DeliveryError(
            origin: .icmp,
            kind: .portUnreachable,
            errno: .connectionRefused,
            type: isV4 ? 3 : 1,
            code: isV4 ? 3 : 4,
            offender: destination.ip,
            destination: destination,
            quotedPayload: quote
        )
    }
}
