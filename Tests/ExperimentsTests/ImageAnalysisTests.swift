import Foundation
import Testing
@testable import Experiments
@testable import Hypervisor
import OvercommitSupport
import PageContents
import Scenarios
import Simulation

/// Builds small images from page descriptors: the generator writes each page's 4096 bytes.
func imageBytes(_ contents: [PageContent], extraBytes: [UInt8] = []) -> [UInt8] {
    let gen = PageGenerator()
    var bytes: [UInt8] = []
    bytes.reserveCapacity(contents.count * pageSize + extraBytes.count)
    for c in contents { bytes += gen.bytes(c) }
    return bytes + extraBytes
}

func text(_ seed: UInt64) -> PageContent { PageContent(style: .text, seed: seed) }
func code(_ seed: UInt64) -> PageContent { PageContent(style: .code, seed: seed) }
func random(_ seed: UInt64) -> PageContent { PageContent(style: .random, seed: seed) }
func pattern(_ seed: UInt64) -> PageContent { PageContent(style: .pattern, seed: seed) }

/// Three images with known overlaps: zero pages, duplicates inside each image, contents
/// shared between images, incompressible pages, a content repeated past max_page_sharing,
/// and a file that ends in a partial page.
func sampleSet() -> [MemoryImage] {
    var a: [PageContent] = Array(repeating: .zero, count: 32)
    a += (1...32).map { text($0) }  // 32 text, 16 of them also in b
    for _ in 0..<4 { a += (1...8).map { code($0) } }  // 8 code pages x4
    a += (1...32).map { random($0) }  // incompressible, unique
    var b: [PageContent] = (17...48).map { text($0) }
    for _ in 0..<2 { b += (1...8).map { code($0) } }  // the same 8 code pages x2
    b += Array(repeating: .zero, count: 20)
    b += Array(repeating: pattern(7), count: 10)  // same-filled, x10
    var c: [PageContent] = Array(repeating: text(999), count: 300)  // past max_page_sharing 256
    c += [random(500)]
    return [
        MemoryImage(name: "a.img", bytes: imageBytes(a)),
        MemoryImage(name: "b.img", bytes: imageBytes(b)),
        MemoryImage(name: "c.img", bytes: imageBytes(c, extraBytes: Array(repeating: 0x41, count: 100))),
    ]
}

@Suite struct ImageAnalysisTests {
    @Test func countsZeroDuplicateAndSharedPagesOfAKnownSet() {
        let r = ImageAnalysis.analyze(sampleSet())
        let (a, b, c) = (r.images[0], r.images[1], r.images[2])
        #expect(a.pages == 128 && b.pages == 78 && c.pages == 302)
        #expect(a.zeroPages == 32 && b.zeroPages == 20 && c.zeroPages == 0)
        #expect(b.sameFilledPages == 10 && a.sameFilledPages == 0)
        #expect(a.duplicateInImagePages == 32, "the 8 code pages x4")
        #expect(b.duplicateInImagePages == 16 + 10)
        #expect(c.duplicateInImagePages == 300)
        #expect(a.duplicateInOtherImagesPages == 16 + 32, "16 text pages and the 32 code pages are also in b")
        #expect(b.duplicateInOtherImagesPages == 16 + 16)
        #expect(c.duplicateInOtherImagesPages == 0)
        // c: 300 copies under max_page_sharing 256: one full frame, one of 44 mappings.
        #expect(c.salted.pagesShared == 2 && c.salted.pagesSharing == 298)
        #expect(c.paddingBytes == 4096 - 100)
        // Within images: a 8 frames (24 saved), b 8 code + 1 pattern frames (8 + 9 saved), c as above.
        #expect(r.salted.pagesShared == 8 + 9 + 2)
        #expect(r.salted.pagesSharing == 24 + 17 + 298)
        // Across images: 16 shared text pages, 8 code pages x6, the pattern, c's text.
        #expect(r.unsalted.pagesShared == 16 + 8 + 1 + 2)
        #expect(r.unsalted.pagesSharing == 16 + 8 * 5 + 9 + 298)
        #expect(r.unsalted.zeroPagesSharing == 52 && r.salted.zeroPagesSharing == 52)
        #expect(r.unsalted.falseMatches == 0)
        // Distinct: zero, 48 text, 8 code, 32 + 1 random, pattern, c's text and c's partial page.
        #expect(r.distinctContents == 1 + 48 + 8 + 33 + 1 + 1 + 1)
    }

    @Test func zeroPagesAreOrdinaryContentWithoutTheZeroFrame() {
        var o = ImageAnalysisOptions()
        o.useZeroPages = false
        let r = ImageAnalysis.analyze(sampleSet(), options: o)
        let on = ImageAnalysis.analyze(sampleSet())
        // 52 zero pages become one shared content: 1 frame, 51 extra mappings (salting off);
        // one frame per image holding them with salting on.
        #expect(r.unsalted.zeroPagesSharing == 0)
        #expect(r.unsalted.pagesShared == on.unsalted.pagesShared + 1)
        #expect(r.unsalted.pagesSharing == on.unsalted.pagesSharing + 51)
        #expect(r.salted.pagesShared == on.salted.pagesShared + 2)
        #expect(r.salted.pagesSharing == on.salted.pagesSharing + 31 + 19)
        #expect(r.unsalted.savedPages == on.unsalted.savedPages - 1)
        #expect(r.zeroPages == 52, "zero pages are still reported on their own")
    }

    @Test func maxPageSharingSplitsLargeGroupsAsTheScannerDoes() {
        for (n, limit, shared, sharing) in [
            (1, 256, 0, 0), (2, 256, 1, 1), (256, 256, 1, 255), (257, 256, 1, 255),
            (258, 256, 2, 256), (10, 3, 3, 6), (9, 3, 3, 6), (11, 3, 4, 7),
        ] {
            var t = TPSEstimate()
            t.addGroup(of: n, limit: limit)
            #expect(t.pagesShared == shared && t.pagesSharing == sharing, "n \(n) limit \(limit): \(t)")
        }
    }

    /// The histogram's "kept" is the host's decision: the codec asked to fit below the limit
    /// (`PageCompressor.compressPage`, capacity limit - 1) succeeds exactly for those pages.
    @Test func keptPagesAreThoseTheHostsCompressorAccepts() {
        let images = sampleSet()
        for threshold in [50.0, 25.0] {
            var o = ImageAnalysisOptions()
            o.threshold = Percentage(percent: threshold)
            let r = ImageAnalysis.analyze(images, options: o)
            for fig in r.codecs {
                let compressor = PageCompressor(codec: fig.codec.make())
                var accepted = 0, nonZero = 0
                for img in images {
                    for i in 0..<img.pageCount {
                        img.withPage(i) { p in
                            if PageCompare.isZero(p) { return }
                            nonZero += 1
                            if compressor.compressPage(p, limit: o.keepLimit) != nil { accepted += 1 }
                        }
                    }
                }
                #expect(fig.pages == nonZero)
                #expect(fig.buckets.reduce(0, +) == fig.pages)
                #expect(fig.keptPages == accepted, "\(fig.codec) at \(threshold)%: analysis kept \(fig.keptPages), host compressor accepted \(accepted)")
                #expect(fig.buckets.last! >= 33, "\(fig.codec): the 33 random pages are incompressible")
                if threshold == 50 { #expect(fig.keptPages == fig.buckets.prefix(3).reduce(0, +)) }
                #expect(fig.keptRatio > 1)
            }
        }
    }

    @Test func jsonIsDeterministicAndOrdered() {
        let one = ImageAnalysis.analyze(sampleSet()).json().rendered(indent: 2)
        let two = ImageAnalysis.analyze(sampleSet()).json().rendered(indent: 2)
        #expect(one == two)
        #expect(one.hasPrefix("{\n  \"page_size\": 4096,\n  \"options\""))
        #expect(one.contains("\"salting_off\"") && one.contains("\"zero_pages_in_sharing_counts\": false"))
        let lines = ImageAnalysis.analyze(sampleSet()).textLines()
        #expect(lines.contains { $0.contains("c.img is 1236900 bytes") || $0.contains("zero-padded with 3996 bytes") })
    }

    /// The sample image in Configs/images, whose contents scripts/make-sample-image.sh documents.
    @Test func sampleImageMatchesItsRecipe() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Configs/images/sample.img")
        let bytes = [UInt8](try Data(contentsOf: url))
        let r = ImageAnalysis.analyze([MemoryImage(name: "sample.img", bytes: bytes)])
        #expect(r.pages == 256 && r.zeroPages == 96 && r.distinctContents == 75)
        #expect(r.images[0].sameFilledPages == 32)
        // 8 library pages x8 and 2 patterns x16: 10 frames, 56 + 30 extra mappings.
        #expect(r.salted.pagesShared == 10 && r.salted.pagesSharing == 86)
        #expect(r.unsalted == r.salted)
    }

    /// The analysis agrees with the simulator's KSM scanner: guests boot from the images in a
    /// scenario, the scanner runs to convergence, and the analysis of the guests' memory
    /// (every backed frame, as a RAM dump holds it) predicts its counters exactly.
    @Test(arguments: [0, 2]) func agreesWithTheScannerOnGuestsBootedFromTheImages(salting: Int) throws {
        let set = sampleSet()
        let yaml = """
            name: analyze-agreement
            seed: 3
            duration: 2s
            host:
              memory: 2GiB
              hypervisor_reserved: 64MiB
              vm_overhead: 8MiB
              large_pages: false
              sharing: {enabled: false, salting: \(salting), pages_to_scan: 20000}
            images:
              - {name: ia, kernel_size: 1MiB, memory_image: a.img}
              - {name: ib, kernel_size: 1MiB, memory_image: b.img}
              - {name: ic, kernel_size: 1MiB, memory_image: c.img}
            guests:
              - {name: ga, memory: 64MiB, image: ia, workloads: [{kind: idle, daemons: 1, resident: 1MiB}]}
              - {name: gb, memory: 64MiB, image: ib, count: 2, workloads: [{kind: idle, daemons: 1, resident: 1MiB}]}
              - {name: gc, memory: 64MiB, image: ic, workloads: [{kind: idle, daemons: 1, resident: 1MiB}]}
            """
        let config = try ScenarioLoader.load(text: yaml, file: "agreement.yaml")
        var options = SimulationOptions()
        for img in set { options.memoryImages[img.name] = rawBytes(img) }
        let sim = try Simulation(config: config, options: options)
        _ = sim.run()
        let host = sim.host
        #expect(host.sharing.pages_scanned == 0, "sharing is disabled: the engine never woke the scanner")
        // Memory is static now: wake the scanner by hand until three full scans are done (KSM
        // converges in two).
        let target = host.sharing.full_scans + 3
        var wakeups = 0
        while host.sharing.full_scans < target && wakeups < 100_000 { _ = host.runSharingScanner(); wakeups += 1 }
        #expect(host.sharing.full_scans >= target)

        // Dump every backed frame of each guest, in frame order: the guest's RAM as the host holds it.
        var dumps: [MemoryImage] = []
        for vm in host.vms {
            #expect(vm.compressedPages == 0 && vm.largePages == 0, "\(vm.name) must be all small private or shared pages")
            var bytes: [UInt8] = []
            for i in 0..<vm.p2m.count where vm.p2m[i] != .unbacked && vm.p2m[i] != .overdraft {
                host.generator.withBytes(vm.guest.content(of: UInt32(i))) { bytes += UnsafeRawBufferPointer(start: $0, count: pageSize) }
            }
            dumps.append(MemoryImage(name: vm.name, bytes: bytes))
        }
        // The images' pages are in the guests (each guest read its image at boot).
        #expect(dumps.reduce(0) { $0 + $1.pageCount } > set.reduce(0) { $0 + $1.pageCount })

        var o = ImageAnalysisOptions(sharing: config.host.sharing, compression: config.host.compression)
        o.codecs = [.lz4]
        let r = ImageAnalysis.analyze(dumps, options: o)
        let predicted = salting == 0 ? r.unsalted : r.salted
        let s = host.sharing
        #expect(predicted.pagesShared == s.pages_shared, "salting \(salting): analysis \(predicted.pagesShared) pages_shared, scanner \(s.pages_shared)")
        #expect(predicted.pagesSharing == s.pages_sharing, "salting \(salting): analysis \(predicted.pagesSharing) pages_sharing, scanner \(s.pages_sharing)")
        #expect(
            predicted.zeroPagesSharing == s.zero_pages_sharing,
            "salting \(salting): analysis \(predicted.zeroPagesSharing) zero pages, scanner \(s.zero_pages_sharing)")
        // Guests gb-1 and gb-2 hold the same image: salting decides whether they share it.
        if salting == 0 { #expect(r.unsalted.pagesSharing > r.salted.pagesSharing + 78 - 20) }
    }
}

/// The bytes of an image exactly as given (without the padding of its last page).
func rawBytes(_ img: MemoryImage) -> [UInt8] {
    var out: [UInt8] = []
    for i in 0..<img.pageCount { img.withPage(i) { out += UnsafeRawBufferPointer(start: $0, count: pageSize) } }
    return Array(out.prefix(img.byteCount))
}
