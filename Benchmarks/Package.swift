// swift-tools-version: 6.1
// Benchmarks for overcommit (ordo-one/benchmark). Kept out of the main package so that
// `make test` does not build the benchmark tooling. Run: `make bench`.
import PackageDescription

let package = Package(
    name: "OvercommitBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "overcommit", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "OvercommitBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "OvercommitModel", package: "overcommit"),
            ],
            path: "Benchmarks/OvercommitBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
