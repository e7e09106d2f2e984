// swift-tools-version:6.1
import PackageDescription

// The core library `UDP` depends on the C library alone; only the `udp` command-line tool pulls in
// swift-argument-parser. Heavier dependencies (SwiftNIO, swift-crypto) belong in later, separate targets.
let package = Package(
    name: "swift-udp",
    products: [
        .library(name: "UDP", targets: ["UDP"]),
        .library(name: "UDPTools", targets: ["UDPTools"]),
        .library(name: "UDPPatterns", targets: ["UDPPatterns"]),
        .library(name: "UDPAsync", targets: ["UDPAsync"]),
        .library(name: "UDPSeal", targets: ["UDPSeal"]),
        .library(name: "UDPDNS", targets: ["UDPDNS"]),
        .library(name: "UDPDiscovery", targets: ["UDPDiscovery"]),
        .library(name: "UDPNTP", targets: ["UDPNTP"]),
        .executable(name: "udp", targets: ["udp"]),
    ],
    // Off by default, so that `swift run -c release udp` builds without swift-crypto, whose BoringSSL is most of
    // a release build's time. With it off, `--key-file` and `udp keygen` refuse in one line that names the build
    // command. The library `UDPSeal` builds either way, for a program that depends on it.
    traits: [
        .trait(
            name: "Sealing",
            description: "Sealed datagrams (UDPSeal, swift-crypto) in the engines and in udp: --key-file, keygen."
        )
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        // `swift package generate-documentation`: a plugin only, built when documentation is, never by `swift build`.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .target(name: "CUDP"),
        .target(name: "UDP", dependencies: ["CUDP"]),
        // The engines' stop signal (an eventfd) and the async-signal-safe handlers that raise it.
        .target(name: "CUDPTools"),
        // The one driver that runs any protocol machine on sockets (MachineDriver), the socket factories, and the
        // engines behind the CLI (echo, ping, bench, send, listen, relay, mtu), usable from Swift, tested directly,
        // and measured by the allocation benchmarks in Benchmarks/. It builds no protocol module: a program that
        // embeds the echo engine does not build UDPDNS, UDPDiscovery or UDPNTP, whose machines the driver runs
        // all the same.
        .target(
            name: "UDPTools",
            dependencies: [
                "UDP", "UDPPatterns", "CUDPTools",
                .target(name: "UDPSeal", condition: .when(traits: ["Sealing"])),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // Protocol logic that holds no socket and no clock (sans-I/O): request/reply matching, retry schedules,
        // reply caches, reordering, framing and codecs. Driven by the CLI, the async layer and fake-clock tests.
        // Depends on the core for the shape every protocol machine has (DatagramMachine: addresses, delivery errors,
        // the monotonic instant), nothing else.
        .target(name: "UDPPatterns", dependencies: ["UDP"]),
        // The DNS message codec (RFC 1035, with the record types DNS-SD uses), sans-I/O and bounds-checked: for
        // mDNS/DNS-SD discovery and a unicast DNS client alike. Depends on the core for its address types only.
        .target(name: "UDPDNS", dependencies: ["UDP", "UDPPatterns"]),
        // SNTP (RFC 4330/5905 client mode): the packet, the checks a reply must pass and the offset and delay of a
        // sample, sans-I/O.
        .target(name: "UDPNTP", dependencies: ["UDP", "UDPPatterns"]),
        // Service discovery on the link (mDNS/DNS-SD and SSDP): the protocols' logic, sans-I/O where it can be.
        .target(name: "UDPDiscovery", dependencies: ["UDPDNS", "UDP", "UDPPatterns"]),
        // Datagrams sealed with a pre-shared key (AEAD), with replay protection; sans-I/O like UDPPatterns.
        .target(name: "UDPSeal", dependencies: ["UDP", .product(name: "Crypto", package: "swift-crypto")]),
        // async/await sockets on SwiftNIO's event loop; NIO stays out of the core and the CLI.
        .target(
            name: "UDPAsync",
            dependencies: [
                "UDP", "UDPPatterns", "CUDP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "udp",
            dependencies: [
                "UDP", "CUDP", "UDPTools", "UDPPatterns", "UDPDNS", "UDPDiscovery", "UDPNTP",
                .target(name: "UDPSeal", condition: .when(traits: ["Sealing"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // The seed tutorial's programs, kept compiling so the README's code cannot rot.
        .executableTarget(name: "example-server", dependencies: ["UDP"], path: "Examples/MinimalServer"),
        .executableTarget(name: "example-client", dependencies: ["UDP"], path: "Examples/MinimalClient"),
        .executableTarget(name: "example-query", dependencies: ["UDP"], path: "Examples/QueryWithRetries"),
        .executableTarget(name: "example-listen", dependencies: ["UDP"], path: "Examples/MultiPeerListen"),
        .executableTarget(name: "example-async-echo", dependencies: ["UDPAsync", "UDP"], path: "Examples/AsyncEcho"),
        // The seed's pitfalls as programs: each shows the failure, then the fix, on loopback, in a few seconds.
        .executableTarget(name: "pitfall-timeouts", dependencies: ["UDP"], path: "Examples/Pitfalls/Timeouts"),
        .executableTarget(name: "pitfall-truncation", dependencies: ["UDP"], path: "Examples/Pitfalls/Truncation"),
        .executableTarget(
            name: "pitfall-large-datagrams",
            dependencies: ["UDP"],
            path: "Examples/Pitfalls/LargeDatagrams"
        ),
        .executableTarget(
            name: "pitfall-unclosed-sockets",
            dependencies: ["UDP"],
            path: "Examples/Pitfalls/UnclosedSockets"
        ),
        .executableTarget(
            name: "pitfall-spoofing",
            dependencies: ["UDP", "UDPSeal"],
            path: "Examples/Pitfalls/Spoofing"
        ),
        .executableTarget(name: "pitfall-localhost", dependencies: ["UDP"], path: "Examples/Pitfalls/Localhost"),
        .executableTarget(
            name: "pitfall-blocking-and-async",
            dependencies: ["UDP"],
            path: "Examples/Pitfalls/BlockingAndAsync"
        ),
        .executableTarget(name: "pitfall-client-bind", dependencies: ["UDP"], path: "Examples/Pitfalls/ClientBind"),
        // setns(2) for the tests that move a thread into a network namespace; nothing outside Tests/ uses it.
        .target(name: "CNamespaceTesting"),
        // Test fixtures in network namespaces (a pair of hosts, a client-router-server chain), shared by the
        // test targets; Foundation is fine here.
        .target(name: "NamespaceTesting", dependencies: ["CNamespaceTesting"]),
        .testTarget(
            name: "UDPTests",
            dependencies: [
                "UDP", "CUDP", "NamespaceTesting", .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        // UDPPatterns: the relay's proof tests frame a numbered stream and put it back in order themselves.
        .testTarget(
            name: "UDPCommandTests",
            dependencies: ["UDP", "UDPPatterns", "UDPDNS", "UDPNTP", "NamespaceTesting", "CNamespaceTesting"]
        ),
        .testTarget(name: "UDPPatternsTests", dependencies: ["UDPPatterns", "UDP"]),
        // NamespaceTesting: the echo engine answers from the address asked on a host with several, in namespaces.
        .testTarget(
            name: "UDPToolsTests",
            dependencies: [
                "UDPTools", "UDP", "UDPDNS", "UDPDiscovery", "UDPNTP", "UDPPatterns", "UDPSeal", "NamespaceTesting",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(name: "UDPSealTests", dependencies: ["UDPSeal"]),
        .testTarget(name: "UDPDNSTests", dependencies: ["UDPDNS", "UDP", "UDPPatterns"]),
        .testTarget(name: "UDPDiscoveryTests", dependencies: ["UDPDiscovery", "UDPDNS", "UDP", "UDPPatterns"]),
        .testTarget(name: "UDPNTPTests", dependencies: ["UDPNTP", "UDP", "UDPPatterns"]),
        .testTarget(
            name: "UDPAsyncTests",
            dependencies: [
                "UDPAsync", "UDP", "UDPPatterns",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
