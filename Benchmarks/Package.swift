// swift-tools-version:6.1
import PackageDescription

// Allocation benchmarks, kept out of the main package so that `swift build` and `swift test` stay fast:
//   cd Benchmarks && swift package benchmark
// ordo-one/benchmark counts mallocs through its MallocInterposer trait.
let package = Package(
    name: "swift-udp-benchmarks",
    dependencies: [
        .package(name: "swift-udp", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "DatagramAllocations",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "UDP", package: "swift-udp"),
                .product(name: "UDPTools", package: "swift-udp"),
            ],
            path: "Benchmarks/DatagramAllocations",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
