import ArgumentParser
import UDP

/// The families that `discover` and `announce` work on: both, or `-4` / `-6` alone.
struct FamilyOptions: ParsableArguments {
    @Flag(name: .customShort("4"), help: "IPv4 only (mDNS 224.0.0.251, SSDP 239.255.255.250).")
    var ipv4 = false

    @Flag(name: .customShort("6"), help: "IPv6 only (mDNS ff02::fb, SSDP ff02::c).")
    var ipv6 = false

    func validate() throws {
        guard !(ipv4 && ipv6) else { throw ValidationError("-4 and -6 exclude each other") }
    }

    var families: [AddressFamily] { ipv4 ? [.inet] : ipv6 ? [.inet6] : [.inet, .inet6] }
}

/// The link interfaces to use for `family`, each with all its addresses: those with an address of the family
/// (loopback aside, which carries no multicast), limited to the `named` ones when any are.
func linkInterfaces(
    for family: AddressFamily,
    named: [UInt32] = [],
    among addresses: [InterfaceAddress]
) -> [UInt32: [InterfaceAddress]] {
    var chosen: [UInt32: [InterfaceAddress]] = [:]
    for address in addresses where address.address.family == family {
        let loopback = address.address == .v4(.loopback) || address.address == .v6(.loopback)
        guard !loopback, named.isEmpty || named.contains(address.interfaceIndex) else { continue }
        chosen[address.interfaceIndex] = addresses.filter { $0.interfaceIndex == address.interfaceIndex }
    }
    return chosen
}
