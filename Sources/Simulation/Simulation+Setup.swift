import GuestKernel
import OvercommitSupport
import PageContents
import Workloads

/// Building a scenario's guests, shared by `Simulation.init` and `Simulation.checkSetup`, so
/// a check before the run finds exactly the problems the run would.
extension Simulation {
    /// The memory images the scenario's images name, from `options` (the caller read them),
    /// and each image's index among them.
    static func memoryImages(
        _ config: ScenarioConfig, _ options: SimulationOptions
    ) throws(SimulationSetupError)
        -> (images: [MemoryImage], index: [String: Int])
    {
        var memoryImages: [MemoryImage] = []
        var imageIndex: [String: Int] = [:]
        for img in config.resolvedImages {
            guard let path = img.memory_image else { continue }
            guard let bytes = options.memoryImages[path] else {
                let i = config.images.firstIndex { $0.name == img.name } ?? 0
                throw SimulationSetupError(keyPath: "images[\(i)].memory_image", message: "memory image '\(path)' was not loaded")
            }
            imageIndex[img.name] = memoryImages.count
            memoryImages.append(MemoryImage(name: path, bytes: bytes))
        }
        return (memoryImages, imageIndex)
    }

    /// Registers the image's files (and its memory image, as `/dev/mem-image`) in a guest's
    /// kernel; returns the files the guest's boot reads (code, then the memory image).
    static func registerImageFiles(
        _ img: ImageConfig, in kernel: GuestKernel, guestSeed: UInt64, imageSeed: UInt64,
        storedImage: (index: Int, pages: Int)?
    ) -> [String] {
        var bootFiles: [String] = []
        for f in img.files {
            // A copy (same_as) has the original's bytes: its seed, size and style.
            let original = f.same_as.flatMap { o in img.files.first { $0.path == o } } ?? f
            let seed =
                original.per_guest
                ? StableHash.mix(guestSeed, StableHash.fnv1a64(original.path))
                : StableHash.mix(imageSeed, StableHash.fnv1a64(original.path))
            _ = kernel.registerFile(path: f.path, pages: max(1, (Int(original.size.bytes) + 4095) / 4096), style: original.style, contentSeed: seed)
            if original.style == .code { bootFiles.append(f.path) }
        }
        if let stored = storedImage {
            let path = "/dev/mem-image"
            _ = kernel.registerFile(path: path, pages: stored.pages, style: .stored, contentSeed: 0, storedImage: stored.index)
            bootFiles.append(path)
        }
        return bootFiles
    }

    /// Builds workload `wi` of a guest, with its own random stream drawn from `rng`; a
    /// workload that cannot be built is reported at `guests[entry].workloads[wi]`.
    static func makeWorkload(
        _ spec: WorkloadSpec, index wi: Int, entry: Int, kernel: GuestKernel, image img: ImageConfig,
        resources: WorkloadResources, rng: inout Xoshiro256,
        costs: CostModel
    ) throws(SimulationSetupError) -> (any Workload, WorkloadContext) {
        var wrng = Xoshiro256(seed: rng.next())
        do {
            let w = try spec.make(kernel: kernel, rng: &wrng, resources: resources, imageFiles: img.files.map(\.path))
            return (w, WorkloadContext(rng: wrng, costs: costs))
        } catch {
            throw SimulationSetupError(keyPath: "guests[\(entry)].workloads[\(wi)]", message: "\(error)", underlying: error)
        }
    }

    /// Every problem `init` would throw (a memory image not loaded, a workload that cannot
    /// be built: a `data_file` or `docroot` missing from the guest's image, a trace that does
    /// not parse), all of them, found without building the host or full-size guests: each
    /// guest entry (not each of its `count` copies, which are alike) builds its workloads
    /// once in a 16 MiB kernel holding its image's files. Workloads look files up by path;
    /// the guest's memory size plays no part in building them, so `validate` costs
    /// milliseconds and megabytes even for a 1 TiB host.
    public static func setupProblems(config: ScenarioConfig, options: SimulationOptions) -> [SimulationSetupError] {
        var problems: [SimulationSetupError] = []
        for (i, img) in config.images.enumerated() {
            if let path = img.memory_image, options.memoryImages[path] == nil {
                problems.append(SimulationSetupError(keyPath: "images[\(i)].memory_image", message: "memory image '\(path)' was not loaded"))
            }
        }
        if config.host.policy.isProgram {
            problems += PolicyBinding.program(config.host.policy, sources: options.policySources[config.host.policy.files] ?? []).1
        }
        guard problems.isEmpty, let (memoryImages, imageIndex) = try? Simulation.memoryImages(config, options) else { return problems }
        let images = config.resolvedImages
        let resources = WorkloadResources(options.textResources)
        for (entry, g) in config.guests.enumerated() {
            let img = images.first { $0.name == g.image }!
            let imageSeed = StableHash.fnv1a64("image:" + img.name)
            let guestSeed = StableHash.mix(config.seed, StableHash.fnv1a64("guest:" + g.name))
            var noSwap = g.swap
            noSwap.size = ByteCount(0)
            let kernel = GuestKernel(
                name: g.name, memoryPages: 4096, config: g.kernel, swap: noSwap,
                costs: config.costs, seed: guestSeed, kernelImageSeed: imageSeed,
                kernelImagePages: img.kernel_size.pages)
            let stored = imageIndex[img.name].map { (index: $0, pages: memoryImages[$0].pageCount) }
            _ = registerImageFiles(img, in: kernel, guestSeed: guestSeed, imageSeed: imageSeed, storedImage: stored)
            var rng = Xoshiro256(seed: config.seed, component: "workload:" + g.name)
            _ = rng.next()  // the boot workload's stream, as in `init`
            for (wi, spec) in g.workloads.enumerated() {
                do {
                    _ = try makeWorkload(
                        spec, index: wi, entry: entry, kernel: kernel, image: img, resources: resources,
                        rng: &rng, costs: config.costs)
                } catch {
                    problems.append(error)
                }
            }
        }
        return problems
    }
}

extension ScenarioConfig {
    /// For each guest of `expandedGuests`, the index of the `guests` entry it comes from.
    public var guestEntryIndices: [Int] {
        guests.indices.flatMap { i in Array(repeating: i, count: max(1, guests[i].count)) }
    }
}
