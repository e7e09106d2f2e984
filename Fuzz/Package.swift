// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets, kept out of the main package: they build with -sanitize=fuzzer.
//   Scripts/fuzz.sh [SECONDS]      builds them and runs each for a bounded time
let package = Package(
    name: "swift-udp-fuzz",
    dependencies: [.package(name: "swift-udp", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        // Plays a script of datagrams, errors and time decoded from the input against any protocol machine.
        .target(
            name: "FuzzMachine",
            dependencies: [
                .product(name: "UDP", package: "swift-udp"), .product(name: "UDPPatterns", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzFramedEchoServer",
            dependencies: [
                "FuzzDriver", "FuzzMachine", .product(name: "UDPTools", package: "swift-udp"),
                .product(name: "UDP", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzPathMTUProber",
            dependencies: [
                "FuzzDriver", "FuzzMachine", .product(name: "UDPTools", package: "swift-udp"),
                .product(name: "UDP", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzListener",
            dependencies: [
                "FuzzDriver", "FuzzMachine", .product(name: "UDPTools", package: "swift-udp"),
                .product(name: "UDPPatterns", package: "swift-udp"), .product(name: "UDP", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzDatagramClient",
            dependencies: [
                "FuzzDriver", "FuzzMachine", .product(name: "UDPTools", package: "swift-udp"),
                .product(name: "UDPPatterns", package: "swift-udp"), .product(name: "UDP", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzPingSession",
            dependencies: [
                "FuzzDriver", "FuzzMachine", .product(name: "UDPTools", package: "swift-udp"),
                .product(name: "UDP", package: "swift-udp"), .product(name: "UDPPatterns", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzAddressParser",
            dependencies: ["FuzzDriver", .product(name: "UDP", package: "swift-udp")]
        ),
        .executableTarget(
            name: "FuzzFrameDecoder",
            dependencies: ["FuzzDriver", .product(name: "UDPPatterns", package: "swift-udp")]
        ),
        .executableTarget(
            name: "FuzzDNSMessage",
            dependencies: ["FuzzDriver", .product(name: "UDPDNS", package: "swift-udp")]
        ),
        .executableTarget(
            name: "FuzzDNSStubQuery",
            dependencies: [
                "FuzzDriver", "FuzzMachine", .product(name: "UDPDNS", package: "swift-udp"),
                .product(name: "UDP", package: "swift-udp"), .product(name: "UDPPatterns", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzDNSPingSession",
            dependencies: [
                "FuzzDriver", "FuzzMachine", .product(name: "UDPDNS", package: "swift-udp"),
                .product(name: "UDP", package: "swift-udp"), .product(name: "UDPPatterns", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzSSDPMessage",
            dependencies: ["FuzzDriver", .product(name: "UDPDiscovery", package: "swift-udp")]
        ),
        .executableTarget(
            name: "FuzzMDNSBrowser",
            dependencies: [
                "FuzzDriver", .product(name: "UDPDiscovery", package: "swift-udp"),
                .product(name: "UDPDNS", package: "swift-udp"), .product(name: "UDP", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzMDNSBrowseSession",
            dependencies: [
                "FuzzDriver", "FuzzMachine", .product(name: "UDPDiscovery", package: "swift-udp"),
                .product(name: "UDP", package: "swift-udp"), .product(name: "UDPPatterns", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzMachineGroup",
            dependencies: [
                "FuzzDriver", "FuzzMachine", .product(name: "UDPDiscovery", package: "swift-udp"),
                .product(name: "UDP", package: "swift-udp"), .product(name: "UDPPatterns", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzSSDPSearchSession",
            dependencies: [
                "FuzzDriver", "FuzzMachine", .product(name: "UDPDiscovery", package: "swift-udp"),
                .product(name: "UDP", package: "swift-udp"), .product(name: "UDPPatterns", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzMDNSAnnounceSession",
            dependencies: [
                "FuzzDriver", "FuzzMachine", .product(name: "UDPDiscovery", package: "swift-udp"),
                .product(name: "UDPDNS", package: "swift-udp"), .product(name: "UDP", package: "swift-udp"),
                .product(name: "UDPPatterns", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzSSDPAnnounceSession",
            dependencies: [
                "FuzzDriver", "FuzzMachine", .product(name: "UDPDiscovery", package: "swift-udp"),
                .product(name: "UDP", package: "swift-udp"), .product(name: "UDPPatterns", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzNTPPacket",
            dependencies: ["FuzzDriver", .product(name: "UDPNTP", package: "swift-udp")]
        ),
        .executableTarget(
            name: "FuzzSNTPProbe",
            dependencies: [
                "FuzzDriver", "FuzzMachine", .product(name: "UDPNTP", package: "swift-udp"),
                .product(name: "UDP", package: "swift-udp"), .product(name: "UDPPatterns", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzReflector",
            dependencies: [
                "FuzzDriver", .product(name: "UDPTools", package: "swift-udp"),
                .product(name: "UDPPatterns", package: "swift-udp"), .product(name: "UDP", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzRelayMachine",
            dependencies: [
                "FuzzDriver", .product(name: "UDPTools", package: "swift-udp"),
                .product(name: "UDP", package: "swift-udp"),
            ]
        ),
        .executableTarget(
            name: "FuzzSealedEnvelope",
            dependencies: ["FuzzDriver", .product(name: "UDPSeal", package: "swift-udp")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
