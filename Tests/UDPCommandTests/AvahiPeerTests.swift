import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Whether Debian's avahi-daemon is installed (`.ci/run` installs it, started by nothing): the second mDNS
/// responder `udp discover` is tested against, started by each test inside its own namespace.
let avahiInstalled = FileManager.default.isExecutableFile(atPath: "/usr/sbin/avahi-daemon")

/// Runs inside a private mount namespace, so that nothing on the host changes: a fresh tmpfs on /run takes
/// avahi's PID file and socket (it would create /run/avahi-daemon on the host otherwise), and the static
/// service, written there too, is bind-mounted over /etc/avahi/services, the folder avahi reads it from.
/// `$1` is the config file, `$2` the service file. The daemon replaces the shell, so its PID is the one spawned.
private let avahiInPrivateMounts = """
    set -e
    mount -t tmpfs avahi-peer /run
    mkdir -p /run/avahi-peer/services
    printf '%s' "$1" >/run/avahi-peer/avahi-daemon.conf
    printf '%s' "$2" >/run/avahi-peer/services/avahi-web.service
    mount --bind /run/avahi-peer/services /etc/avahi/services
    exec /usr/sbin/avahi-daemon --file /run/avahi-peer/avahi-daemon.conf --no-drop-root
    """

/// `_http._tcp` instance "Avahi Web", port 8080, TXT path=/avahi: avahi's static service file format.
private let avahiWebService = """
    <?xml version="1.0" standalone='no'?>
    <!DOCTYPE service-group SYSTEM "avahi-service.dtd">
    <service-group>
      <name>Avahi Web</name>
      <service><type>_http._tcp</type><port>8080</port><txt-record>path=/avahi</txt-record></service>
    </service-group>
    """

extension NamespacePair {
    /// Starts avahi-daemon in namespace B as host avahibox.local, on B's end of the veth only, publishing
    /// "Avahi Web", and returns once it says the service is established (it has probed the names).
    ///
    /// D-Bus and wide-area DNS are off. It keeps root (`--no-drop-root`), so it does not depend on the `avahi`
    /// user or chroot into /etc/avahi. It says goodbye when it gets SIGTERM.
    func startAvahi() throws -> Spawned {
        let config = """
            [server]
            host-name=avahibox
            use-ipv4=yes
            use-ipv6=yes
            allow-interfaces=\(vethB)
            enable-dbus=no
            [wide-area]
            enable-wide-area=no
            [publish]
            publish-addresses=yes
            publish-hinfo=no
            publish-workstation=no
            [reflector]
            enable-reflector=no
            """
        let avahi = try Spawned([
            "/usr/sbin/ip", "netns", "exec", b, "/usr/bin/unshare", "--mount", "--propagation", "private",
            "/bin/sh", "-c", avahiInPrivateMounts, "sh", config, avahiWebService,
        ])
        let established = avahi.readErrorLine(timeout: .seconds(15)) { $0.contains("successfully established") }
        try #require(established != nil, "avahi-daemon did not publish its service")
        return avahi
    }
}

// `udp discover` against Debian's avahi-daemon, the responder most Linux hosts run, on the other end of a veth
// pair: multicast stays inside the two namespaces the test creates.
@Suite(
    "udp discover with avahi-daemon",
    .enabled(if: NamespacePair.available, "ip netns needs root and iproute2"),
    .enabled(if: avahiInstalled, "needs avahi-daemon (apt-get install --no-install-recommends avahi-daemon)")
)
struct AvahiPeerTests {
    @Test("finds and resolves what avahi-daemon publishes, and sees it leave", arguments: ["ipv4", "ipv6"])
    func findsAvahi(family: String) throws {
        let hosts = try NamespacePair()
        let address = family == "ipv4" ? hosts.addressB : hosts.addressesOfB6[0]
        let avahi = try hosts.startAvahi()
        let (discover, resolved) = try hosts.discoverHTTP(family: family, instance: "Avahi Web", host: "avahibox.local")
        // B's address of this family comes first: IPv4 addresses are listed first, and over IPv4 avahi also
        // sends its AAAA record (publish-aaaa-on-ipv4 is on by default), so B's IPv6 address may follow.
        #expect(resolved.contains(#""addresses": ["\#(address)""#), "\(resolved)")
        #expect(resolved.contains(#""txt": {"path": "/avahi"}"#))
        // The goodbye: avahi withdraws its records on SIGTERM, and the instance leaves a second after them.
        avahi.signal(SIGTERM)
        let removed = try #require(discover.readLine(timeout: .seconds(10)))
        #expect(removed.contains(#""event": "removed""#), "\(removed)")
        #expect(avahi.wait(timeout: .seconds(5)).status == 0)
        discover.signal(SIGINT)
        #expect(discover.wait(timeout: .seconds(5)).status == 0)
    }
}
