import ArgumentParser
import UDP

/// Where `send`, `ping` and `bench` send: ADDR, with `-4` / `-6` to choose the family of a name.
struct DestinationOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("Destination: HOST:PORT, or [IPV6]:PORT.", valueName: "address"))
    var address: String

    @OptionGroup var resolution: ResolveFamilyOptions

    /// The address: a literal as is, a name resolved (IPv4 first unless -4 or -6 says otherwise).
    func resolve() throws(UDPError) -> SocketAddress {
        let destination = try SocketAddress(resolving: address, family: resolution.family)
        guard destination.port != 0 else {
            // The kernel would answer EINVAL ("invalid argument"), which does not say what to change.
            throw UDPError(
                .invalidAddress,
                .parse,
                detail: "'\(address)': port 0 is not a destination; name the server's port"
            )
        }
        return destination
    }
}
