import ArgumentParser
import UDP

/// `-4` / `-6`: the family a host name resolves to, for the commands that name one host (`send`, `ping`, `bench`,
/// `mtu` through ``DestinationOptions``, and `ntp`).
struct ResolveFamilyOptions: ParsableArguments {
    @Flag(name: .customShort("4"), help: "Resolve the host name to IPv4 only.")
    var ipv4 = false

    @Flag(name: .customShort("6"), help: "Resolve the host name to IPv6 only.")
    var ipv6 = false

    func validate() throws {
        guard !(ipv4 && ipv6) else { throw ValidationError("-4 and -6 exclude each other") }
    }

    /// The family asked for; nil for either, IPv4 first.
    var family: AddressFamily? { ipv4 ? .inet : ipv6 ? .inet6 : nil }
}
