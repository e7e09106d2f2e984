import UDP

/// What the link machines' targets (mDNS and SSDP, browse and announce) share: one interface served, index 1,
/// with address 198.18.0.1/24; a script whose datagrams arrive on it or on interface 3, served by none; and
/// the instant they start.
public enum LinkFixture {
    /// When the machines start: one second after the fake clock's origin, where the script starts.
    public static let start = MonotonicInstant(nanoseconds: 1_000_000_000)

    /// The address of the interface served.
    public static let ownAddress = InterfaceAddress(
        address: .v4(IPv4Address(198, 18, 0, 1)),
        interfaceIndex: 1,
        prefixLength: 24
    )

    /// The interfaces an announce session serves, by index, with their addresses: interface 1 only.
    public static var interfaces: [UInt32: [InterfaceAddress]] { [1: [ownAddress]] }

    /// The script player, made per input (`MachineScript` is no Sendable global): datagrams from `peers`,
    /// arriving on interface 1 or 3, to `group` when flagged so.
    public static func script(peers: [SocketAddress], group: IPAddress) -> MachineScript {
        MachineScript(peers: peers, interfaces: [1, 3], group: group)
    }
}
