import GuestKernel
import OvercommitTestSupport
import OvercommitSupport
import PageContents
@testable import Workloads

/// The built-in image's files (as `ImageConfig.builtinLinux` lists them).
let imageFiles: [(path: String, size: ByteCount, style: ContentStyle)] = [
    ("/usr/lib/libc.so.6", .mib(2), .code),
    ("/usr/lib/libcrypto.so.3", .mib(4), .code),
    ("/usr/lib/libpython3.so", .mib(8), .code),
    ("/usr/sbin/nginx", .mib(2), .code),
    ("/usr/sbin/postgres", .mib(10), .code),
    ("/usr/share/locale", .mib(16), .text),
    ("/var/www/html", .mib(256), .text),
    ("/var/lib/db/data", .gib(2), .pointers),
    ("/var/log/app.log", .mib(64), .text),
]

/// A guest kernel of `memory` with the built-in image's files registered.
func makeKernel(
    memory: ByteCount = .mib(256), swap: ByteCount = .mib(256), overcommit: Int = 0,
    policy: ReplacementPolicyKind = .linux, seed: UInt64 = 1
) -> GuestKernel {
    let k = makeTestKernel(memory: memory, swap: swap, kernelReserved: nil, seed: seed, contentShadow: false) {
        $0.overcommit_memory = overcommit
        $0.replacement_policy = policy
    }
    _ = k.boot()
    for (i, f) in imageFiles.enumerated() {
        _ = k.registerFile(path: f.path, pages: f.size.pages, style: f.style, contentSeed: UInt64(i + 1) << 32)
    }
    return k
}

/// Drives a workload as the engine does: 10 ms slices, debt carried over, kswapd after each
/// slice and LRU aging every 100 ms. `observe` runs after every slice with the end time
/// and the context.
@discardableResult
func drive(
    _ w: any Workload, on k: GuestKernel, seconds: Double, context: inout WorkloadContext,
    tick: Int64 = 10_000_000, observe: (Int64, WorkloadContext) -> Void = { _, _ in }
) -> Int64 {
    let end = context.now + Int64(seconds * 1e9)
    var t = context.now
    while t < end && !w.isFinished {
        k.now = t
        context.now = t
        context.budget = min(context.budget, 0) + tick
        w.run(on: k, context: &context)
        _ = k.runKswapd()
        if (t / tick) % 10 == 9 { k.runPeriodicAging(dirtyExpired: false) }
        t += tick
        observe(t, context)
    }
    return t
}

func makeContext(seed: UInt64 = 7) -> WorkloadContext {
    WorkloadContext(rng: Xoshiro256(seed: seed, component: "workload-test"), costs: CostModel())
}

/// Builds a workload from a spec with a fresh construction RNG.
func make(_ spec: WorkloadSpec, _ k: GuestKernel, resources: [String: String] = [:], seed: UInt64 = 3) throws -> any Workload {
    var rng = Xoshiro256(seed: seed)
    return try spec.make(kernel: k, rng: &rng, resources: resources, imageFiles: imageFiles.map(\.path))
}
