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
