import UDP

extension PathMTUSearch {
    /// The payload sizes worth searching on a path of `family`, before any probe: from what every host must
    /// accept, 548 bytes over IPv4 (576 − 28) and 1232 over IPv6 (1280 − 48, IPv6's floor), to the route's MTU
    /// as the kernel knows it (at least Ethernet's 1500) less the headers, within what the protocol carries.
    ///
    /// - Parameters:
    ///   - family: The path's family.
    ///   - routeMTU: The route's MTU (`UDPSocket.pathMTU` of a connected socket), nil when unknown.
    ///   - minimum: The smallest size to try instead of the floor.
    ///   - maximum: The largest size to try instead of the route's.
    /// - Returns: The bounds, `low` above `high` when `minimum` is above the largest size worth trying.
    public static func sizes(
        family: AddressFamily,
        routeMTU: Int?,
        minimum: Int? = nil,
        maximum: Int? = nil
    ) -> (low: Int, high: Int) {
        let headers = family == .inet ? 28 : 48
        let protocolMaximum = family == .inet ? 65_507 : 65_527
        let low = minimum ?? (family == .inet ? 548 : 1232)
        let high = maximum ?? min(max(routeMTU ?? 1500, 1500) - headers, protocolMaximum)
        return (low, high)
    }
}
