import ArgumentParser

/// `udp announce --ssdp`'s options.
struct SSDPAnnounceOptions: ParsableArguments {
    @Flag(help: "Advertise a UPnP device by SSDP (with --st and --location).")
    var ssdp = false

    @Option(help: "The device or service type to advertise: urn:schemas-upnp-org:device:MediaServer:1.")
    var st: String?

    @Option(help: "The URL of the device description, sent as LOCATION.")
    var location: String?

    @Option(help: "The device's UUID (without uuid:); a random one by default.")
    var uuid: String?

    @Option(help: "Seconds the advertisement stays valid (CACHE-CONTROL max-age; re-announced before half).")
    var maxAge = 1_800

    func validate() throws {
        guard ssdp else {
            guard st == nil, location == nil, uuid == nil else {
                throw ValidationError("--st, --location and --uuid go with --ssdp")
            }
            return
        }
        guard let st, !st.isEmpty, st.utf8.count <= 256, st.allSatisfy(Self.isHeaderCharacter), !st.contains(" ")
        else {
            throw ValidationError("--ssdp needs --st TYPE: a URN such as urn:schemas-upnp-org:device:MediaServer:1")
        }
        guard let location, location.hasPrefix("http://") || location.hasPrefix("https://"),
            location.utf8.count <= 1_024, location.allSatisfy(Self.isHeaderCharacter), !location.contains(" ")
        else { throw ValidationError("--ssdp needs --location URL: the http:// address of the device description") }
        if let uuid {
            guard !uuid.isEmpty, uuid.utf8.count <= 128, uuid.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
                throw ValidationError("--uuid '\(uuid)' is not a UUID: hexadecimal digits and dashes")
            }
        }
        guard (60...86_400).contains(maxAge) else {
            throw ValidationError("--max-age must be 60 to 86400 seconds (got \(maxAge))")
        }
    }

    /// Printable ASCII: what a header value may hold without breaking the message.
    private static func isHeaderCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.asciiValue! >= 0x21 && character.asciiValue! < 0x7F)
    }
}
