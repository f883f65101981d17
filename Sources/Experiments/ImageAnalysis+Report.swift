import OvercommitSupport
import PageContents
import Reports
import Simulation

/// The two renderings of an image analysis: a table for people, JSON for scripts.
extension ImageAnalysis {
    static func mib(_ pages: Int) -> String { formatFixed(Double(pages) * Double(pageSize) / 1_048_576, 2) }
    static func mibBytes(_ bytes: Int) -> String { formatFixed(Double(bytes) / 1_048_576, 2) }
    func percent(_ part: Int, of whole: Int) -> String { whole == 0 ? "0.0" : formatFixed(Double(part) * 100 / Double(whole), 1) }

    /// The names of the host counters the analysis predicts (KSM's sysfs names).
    static let shared = HostCounters.handles.pagesShared.name, sharing = HostCounters.handles.pagesSharing.name
    static let zero = HostCounters.handles.ksmZeroPages.name

    /// How zero pages are treated, in one sentence for both renderings.
    public var zeroPagePolicy: String {
        let (shared, sharing, zero) = (ImageAnalysis.shared, ImageAnalysis.sharing, ImageAnalysis.zero)
        return options.useZeroPages
            ? "use_zero_pages on: zero pages map to the host zero frame in both salting modes (never salted) and are counted in \(zero), not in \(shared)/\(sharing)"
            : "use_zero_pages off: zero pages are shared like any other content (salted, counted in \(shared)/\(sharing))"
    }

    /// The lines `overcommit analyze` prints.
    public func textLines() -> [String] {
        var out: [String] = []
        out.append(
            "\(images.count) image(s), \(pages) pages of 4 KiB (\(ImageAnalysis.mib(pages)) MiB), \(distinctContents) distinct contents (the zero page counted once), \(zeroPages) zero pages (\(percent(zeroPages, of: pages)) %)"
        )
        out.append("")
        var rows = [["image", "pages", "MiB", "zero", "same-filled", "distinct", "dup-in-image", "dup-in-others", "salted shared", "salted sharing"]]
        for f in images {
            rows.append([
                f.name, "\(f.pages)", ImageAnalysis.mib(f.pages), "\(f.zeroPages)", "\(f.sameFilledPages)", "\(f.distinctContents)",
                "\(f.duplicateInImagePages)", "\(f.duplicateInOtherImagesPages)", "\(f.salted.pagesShared)", "\(f.salted.pagesSharing)",
            ])
        }
        out += ImageAnalysis.table(rows)
        for f in images where f.format == ImageLayout.Format.elfCore.rawValue {
            let ranges =
                f.ranges.count <= 8
                ? f.ranges.joined(separator: ", ")
                : f.ranges.prefix(8).joined(separator: ", ") + ", ... (\(f.ranges.count) ranges)"
            out.append(
                "note: \(f.name) is an ELF core: \(f.byteCount) bytes of memory in \(f.segments) PT_LOAD segment(s)"
                    + (f.skippedHeaders > 0 ? " (\(f.skippedHeaders) other program header(s) hold no memory, skipped)" : "")
                    + "; \(f.addressSpace) \(ranges)")
        }
        for f in images where f.paddingBytes > 0 {
            if f.format == ImageLayout.Format.elfCore.rawValue {
                out.append("note: \(f.name): segments not a multiple of 4096 bytes were zero-padded to whole pages (\(f.paddingBytes) bytes)")
            } else {
                out.append("note: \(f.name) is \(f.byteCount) bytes, not a multiple of 4096: its last page was zero-padded with \(f.paddingBytes) bytes")
            }
        }
        out.append("")
        out.append("Transparent page sharing once the scanner has converged (XXH3-64, full 4096-byte comparison, max_page_sharing \(options.maxPageSharing)):")
        rows = [["salting", ImageAnalysis.shared, ImageAnalysis.sharing, ImageAnalysis.zero, "saved pages", "saved MiB", "saved %", "false matches"]]
        for (label, t) in [("off (across images)", unsalted), ("on (per image)", salted)] {
            rows.append([
                label, "\(t.pagesShared)", "\(t.pagesSharing)", "\(t.zeroPagesSharing)", "\(t.savedPages)",
                ImageAnalysis.mib(t.savedPages), percent(t.savedPages, of: pages), "\(t.falseMatches)",
            ])
        }
        out += ImageAnalysis.table(rows)
        out.append(zeroPagePolicy + "; saved = \(ImageAnalysis.sharing) + \(ImageAnalysis.zero).")
        out.append("")
        let nonZero = pages - zeroPages
        out.append(
            "Compressibility of the \(nonZero) non-zero pages (zero pages excluded; kept = compressed below \(options.keepLimit) bytes, host.compression.threshold \(options.threshold)):"
        )
        rows = [["codec", "<512B", "<1KiB", "<2KiB", "<3KiB", "<4KiB", ">=4KiB", "kept", "kept %", "ratio", "cache MiB", "saved MiB"]]
        for c in codecs {
            rows.append(
                [c.codec.rawValue] + c.buckets.map { "\($0)" }
                    + [
                        "\(c.keptPages)", percent(c.keptPages, of: c.pages), formatFixed(c.keptRatio, 2),
                        ImageAnalysis.mibBytes(c.cacheBytes), ImageAnalysis.mib(c.savedPages),
                    ])
        }
        out += ImageAnalysis.table(rows)
        out.append("ratio = 4 KiB x kept pages / their compressed bytes; cache MiB = kept pages in 16-byte size classes; saved = kept pages - cache frames.")
        return out
    }

    /// Columns padded to their widest cell: the first left-aligned, the others right-aligned.
    static func table(_ rows: [[String]]) -> [String] {
        guard let first = rows.first else { return [] }
        var widths = Array(repeating: 0, count: first.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            var line = ""
            for (i, c) in r.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - c.count)
                if i == 0 { line += c + pad } else { line += "  " + pad + c }
            }
            return line
        }
    }

    /// `--json`: keys in a fixed order, integers exact, no wall-clock or host data.
    public func json() -> JSONValue {
        func tps(_ t: TPSEstimate) -> JSONValue {
            .object([
                (ImageAnalysis.shared, .int(t.pagesShared)), (ImageAnalysis.sharing, .int(t.pagesSharing)),
                (ImageAnalysis.zero, .int(t.zeroPagesSharing)), ("saved_pages", .int(t.savedPages)),
                ("saved_kb", .int(t.savedPages * 4)),
                ("saved_percent", .double(pages == 0 ? 0 : Double(t.savedPages) * 100 / Double(pages))),
                ("false_matches", .int(t.falseMatches)),
            ])
        }
        let imgs: [JSONValue] = images.map { f in
            .object([
                ("name", .string(f.name)), ("format", .string(f.format)), ("segments", .int(f.segments)),
                ("skipped_headers", .int(f.skippedHeaders)), ("address_space", .string(f.addressSpace)),
                ("ranges", .array(f.ranges.map { .string($0) })),
                ("bytes", .int(f.byteCount)), ("pages", .int(f.pages)),
                ("padding_bytes", .int(f.paddingBytes)), ("zero_pages", .int(f.zeroPages)),
                ("same_filled_pages", .int(f.sameFilledPages)), ("distinct_contents", .int(f.distinctContents)),
                ("duplicate_in_image_pages", .int(f.duplicateInImagePages)),
                ("duplicate_in_other_images_pages", .int(f.duplicateInOtherImagesPages)),
                ("salted", tps(f.salted)),
            ])
        }
        let cods: [JSONValue] = codecs.map { c in
            var buckets: [(String, JSONValue)] = []
            for (i, n) in c.buckets.enumerated() {
                let key = i < CodecFigures.bucketLimits.count ? "below_\(CodecFigures.bucketLimits[i])" : "at_least_\(pageSize)"
                buckets.append((key, .int(n)))
            }
            return .object([
                ("codec", .string(c.codec.rawValue)), ("pages", .int(c.pages)), ("buckets", .object(buckets)),
                ("kept_pages", .int(c.keptPages)), ("kept_fraction", .double(c.keptFraction)),
                ("kept_bytes", .int(c.keptBytes)), ("kept_ratio", .double(c.keptRatio)),
                ("cache_bytes", .int(c.cacheBytes)), ("saved_pages", .int(c.savedPages)),
            ])
        }
        return .object([
            ("page_size", .int(pageSize)),
            (
                "options",
                .object([
                    ("codecs", .array(options.codecs.map { .string($0.rawValue) })),
                    ("threshold_percent", .double(options.threshold.percent)), ("keep_below_bytes", .int(options.keepLimit)),
                    ("use_zero_pages", .bool(options.useZeroPages)), ("max_page_sharing", .int(options.maxPageSharing)),
                    ("zero_pages_in_sharing_counts", .bool(!options.useZeroPages)),
                    ("zero_pages_in_compression", .bool(false)),
                ])
            ),
            ("images", .array(imgs)),
            ("pages", .int(pages)), ("zero_pages", .int(zeroPages)), ("distinct_contents", .int(distinctContents)),
            ("sharing", .object([("salting_off", tps(unsalted)), ("salting_on", tps(salted))])),
            ("compression", .array(cods)),
        ])
    }
}
