// swift-tools-version: 6.0
// overcommit — a hypervisor memory-overcommit simulator.
import PackageDescription

/// The model libraries run per-page work in tight loops over flat arrays held by classes;
/// Swift's dynamic exclusivity checks on those class properties cost ~40 % of the access path
/// (measured with perf). The model code is single-threaded and does not overlap accesses, so
/// the checks are turned off for these targets (static checks stay on).
///
/// These targets are also optimised (`-O`) in debug builds: the test suite simulates real
/// 4 KiB pages through them, and unoptimised it ran 10-20x longer than CI's budget allows
/// (`make test`: the whole suite in ~70 s instead of tens of minutes; the build ~1 min more).
/// The test targets and the other libraries stay unoptimised and `@testable` works as before
/// (SwiftPM keeps `-enable-testing` in debug).
let hotPathSettings: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked", "-O"])]

let package = Package(
    name: "overcommit",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "overcommit", targets: ["overcommit"]),
        .library(
            name: "OvercommitModel",
            targets: [
                "OvercommitSupport", "PageContents", "GuestKernel", "HostPolicies", "Hypervisor",
                "Workloads", "Simulation", "Scenarios", "Reports", "Experiments", "PolicyLanguage",
            ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // C libraries from Debian (libxxhash-dev, liblz4-dev, libzstd-dev), through shim headers.
        .systemLibrary(name: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // The compiler's prefetch builtin, for the simulator's own memory-bound loops.
        .systemLibrary(name: "CPrefetch"),

        // Bottom layer: deterministic RNG, units, parameter tables, statistics.
        .target(name: "OvercommitSupport"),
        // Page contents: descriptors, generators, hashing and codecs on real 4 KiB bytes.
        .target(name: "PageContents", dependencies: ["OvercommitSupport", "CXXHash", "CLZ4", "CZstd", "CPrefetch"], swiftSettings: hotPathSettings),
        // The guest kernel: sees only guest-physical frames.
        .target(name: "GuestKernel", dependencies: ["OvercommitSupport", "PageContents", "CPrefetch"], swiftSettings: hotPathSettings),
        // Host policy arithmetic: free-memory states, share-based allocation with the idle
        // memory tax, active-memory estimation, balloon policies (pure functions, no state of the host).
        .target(name: "HostPolicies", dependencies: ["OvercommitSupport"]),
        // The hypervisor: backs guest-physical memory with machine frames; shares, balloons,
        // compresses and swaps it under the reclaim scheduler.
        .target(name: "Hypervisor", dependencies: ["OvercommitSupport", "PageContents", "GuestKernel", "HostPolicies"], swiftSettings: hotPathSettings),
        // Workload generators and trace replay, driving a guest kernel.
        .target(name: "Workloads", dependencies: ["OvercommitSupport", "PageContents", "GuestKernel", "CPrefetch"], swiftSettings: hotPathSettings),
        // The simulation engine: time, costs, metrics, invariants.
        .target(
            name: "Simulation",
            dependencies: [
                "OvercommitSupport", "PageContents", "GuestKernel", "HostPolicies", "Hypervisor", "Workloads", "PolicyLanguage",
                .product(name: "Collections", package: "swift-collections"),
            ], swiftSettings: hotPathSettings),
        // Scenario files: YAML/JSON parsing, validation, resolution.
        .target(
            name: "Scenarios",
            dependencies: [
                "OvercommitSupport", "PageContents", "GuestKernel", "Hypervisor", "Workloads", "Simulation",
                .product(name: "Yams", package: "Yams"),
            ]),
        // oVirt MOM's policy language: scanner, parser, evaluator with Python's semantics, the
        // MOM data model (Host and guest fields, controls) and a static checker (no I/O).
        .target(name: "PolicyLanguage", dependencies: ["OvercommitSupport"]),
        // Output files: stats.txt, summary.json, timeseries.csv, events.jsonl.
        .target(name: "Reports", dependencies: ["OvercommitSupport", "GuestKernel", "HostPolicies", "Hypervisor", "Simulation", "Scenarios"]),
        // What users run the simulator for: sweeps, consolidation searches, memory-image
        // analysis, narrated demos (no I/O: the CLI reads files and prints).
        .target(
            name: "Experiments",
            dependencies: [
                "OvercommitSupport", "PageContents", "GuestKernel", "HostPolicies", "Hypervisor", "Workloads",
                "Simulation", "Scenarios", "Reports",
            ]),
        // The command line's file handling, testable on its own: scenario sources (files,
        // stdin, streams), the checks `run` makes before simulating, output directories
        // written atomically and replaced only when they are overcommit's, stop signals.
        .target(
            name: "CLISupport",
            dependencies: [
                "OvercommitSupport", "Workloads", "Simulation", "Scenarios", "Experiments", "PolicyLanguage",
            ]),
        // The thin command-line front end.
        .executableTarget(
            name: "overcommit",
            dependencies: [
                "OvercommitSupport", "PageContents", "GuestKernel", "HostPolicies", "Hypervisor", "Simulation", "Scenarios", "Reports",
                "Experiments", "CLISupport", "PolicyLanguage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Helpers shared by the test targets: small guests and hosts, consistency expectations.
        .target(
            name: "OvercommitTestSupport",
            dependencies: [
                "OvercommitSupport", "PageContents", "GuestKernel", "HostPolicies", "Hypervisor",
            ], path: "Tests/OvercommitTestSupport"),

        .testTarget(name: "OvercommitSupportTests", dependencies: ["OvercommitSupport"]),
        .testTarget(name: "PageContentsTests", dependencies: ["PageContents", "OvercommitSupport"]),
        .testTarget(
            name: "GuestKernelTests",
            dependencies: [
                "GuestKernel", "PageContents", "OvercommitSupport", "OvercommitTestSupport",
            ]),
        .testTarget(name: "HostPoliciesTests", dependencies: ["HostPolicies", "OvercommitSupport"]),
        .testTarget(
            name: "HypervisorTests",
            dependencies: [
                "Hypervisor", "HostPolicies", "GuestKernel", "PageContents", "OvercommitSupport", "OvercommitTestSupport",
            ]),
        .testTarget(
            name: "WorkloadsTests",
            dependencies: [
                "Workloads", "GuestKernel", "PageContents", "OvercommitSupport", "OvercommitTestSupport",
            ]),
        .testTarget(name: "PolicyLanguageTests", dependencies: ["PolicyLanguage", "HostPolicies", "OvercommitSupport"]),
        // Every module a test target imports is listed, so that SwiftPM rebuilds the tests when
        // one of them changes a type's layout.
        .testTarget(
            name: "ScenariosTests",
            dependencies: [
                "Scenarios", "Simulation", "Workloads", "Hypervisor", "GuestKernel", "PageContents", "OvercommitSupport",
            ]),
        .testTarget(
            name: "SimulationTests",
            dependencies: [
                "Simulation", "Scenarios", "Reports", "GuestKernel", "OvercommitSupport", "HostPolicies", "Hypervisor", "PolicyLanguage",
            ], exclude: ["Golden"]),
        // The command line: its file handling in-process, and the built `overcommit` binary run
        // as a subprocess (issue reproducers, signals, a seeded fuzz test).
        .testTarget(
            name: "CLITests",
            dependencies: [
                "CLISupport", "Simulation", "Scenarios", "Reports", "OvercommitSupport", "PolicyLanguage", "overcommit",
            ]),
        .testTarget(
            name: "ExperimentsTests",
            dependencies: [
                "Experiments", "Simulation", "Scenarios", "Reports", "Hypervisor", "PageContents", "OvercommitSupport", "PolicyLanguage",
            ]),
    ]
)
