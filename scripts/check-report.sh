#!/usr/bin/env bash
# Checks that an HTML report (`overcommit report`, `run --report`) renders in a real browser:
# headless Chromium lays the page out, a probe script checks every SVG chart (size, data
# series with finite coordinates, axis ticks, legend), Chromium takes a screenshot of the
# whole page, and a second page decodes that screenshot in Chromium's own canvas and counts,
# inside each chart's rectangle, the pixels drawn in the chart's series colors. A blank page,
# an empty or zero-sized chart, a NaN coordinate or data drawn invisibly fails the check.
#
#   scripts/check-report.sh REPORT.html     check one report (exit 1 if broken)
#   scripts/check-report.sh                 run a short scenario with --report, a small sweep
#                                           and a small consolidation, check the three pages
#                                           (`overcommit report` of each directory), then
#                                           self-test: broken copies must fail
#
# Needs Debian's `chromium` (run as root it gets --no-sandbox) and coreutils; no Python.
# OVERCOMMIT picks the binary (default .build/debug/overcommit, built by `make debug-bin`);
# CHROMIUM the browser; KEEP=1 keeps the work directory (screenshots) for a look.
set -euo pipefail

cd "$(dirname "$0")/.."
CHROMIUM="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
OVERCOMMIT="${OVERCOMMIT:-.build/debug/overcommit}"
WIDTH=1280
# Chromium limits a screenshot's height; charts below it are checked by the DOM probe only.
MAX_HEIGHT=16000

if [ -z "$CHROMIUM" ]; then
    echo "check-report: chromium not found (apt-get install chromium, or set CHROMIUM)" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/check-report.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then echo "check-report: work directory $work"; else trap 'rm -rf "$work"' EXIT; fi

chrome() {
    # Headless, no GPU, no sandbox (CI runs as root), fixed scale so pixels match CSS pixels.
    # /dev/shm is small in containers: --disable-dev-shm-usage. Chromium's own messages go
    # to chromium.log, shown when a probe gives no verdict.
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
        --force-device-scale-factor=1 --no-first-run --disable-extensions \
        --allow-file-access-from-files --virtual-time-budget=10000 "$@" 2>>"$work/chromium.log"
}
no_verdict() {  # $1 = what
    echo "check-report: $1 gave no verdict (the page did not load or the script failed); chromium said:"
    tail -5 "$work/chromium.log" | sed 's/^/  /'
}

# The DOM probe, appended to a copy of the report: checks each chart and prints its box
# and series colors, then a verdict, into <pre id="report-check">.
probe_script='<script>
(function () {
  var out = [], bad = [];
  var charts = document.querySelectorAll("svg.chart");
  if (charts.length < __MIN_CHARTS__) bad.push("only " + charts.length + " charts (expected at least __MIN_CHARTS__)");
  charts.forEach(function (svg, i) {
    var t = svg.querySelector("title");
    var title = (t ? t.textContent : "chart " + i).replace(/\s+/g, " ");
    var r = svg.getBoundingClientRect();
    if (r.width < 200 || r.height < 120) bad.push(title + ": rendered " + Math.round(r.width) + "x" + Math.round(r.height) + " px");
    var series = svg.querySelectorAll(".data .series");
    if (series.length === 0) bad.push(title + ": no data series");
    var colors = [];
    series.forEach(function (p) {
      var d = p.getAttribute("d") || "";
      if (!/^M[-0-9.]+,[-0-9.]+/.test(d) || /nan|inf/i.test(d)) bad.push(title + ": bad path data \"" + d.slice(0, 30) + "\"");
      var b = p.getBBox();
      if (!(b.width > 0 || b.height > 0)) bad.push(title + ": a series has an empty box");
      var cs = getComputedStyle(p);
      if (cs.display === "none" || cs.visibility === "hidden" || cs.opacity === "0") bad.push(title + ": a series is hidden");
      // The color the page means to draw (its attribute), not the computed one, so a style
      // that paints the data white or transparent is caught by the pixel count.
      var area = p.classList.contains("area");
      var hex = (area ? p.getAttribute("fill") : p.getAttribute("stroke")) || "#000000";
      var a = area ? parseFloat(p.getAttribute("fill-opacity") || "1") : 1;
      var n = parseInt(hex.slice(1), 16);
      colors.push(((n >> 16) & 255) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a);
    });
    if (svg.querySelectorAll(".axis.x text").length < 3) bad.push(title + ": x axis has fewer than 2 ticks");
    if (svg.querySelectorAll(".axis.y text").length < 3) bad.push(title + ": y axis has fewer than 2 ticks");
    if (svg.querySelectorAll(".legend text").length < 1) bad.push(title + ": no legend");
    // Pixels are counted inside the plot frame only: the legend swatches have the series colors too.
    var frame = svg.querySelector(".frame");
    var f = frame ? frame.getBoundingClientRect() : r;
    if (!frame) bad.push(title + ": no plot frame");
    out.push("CHART " + Math.round(f.left + scrollX) + " " + Math.round(f.top + scrollY) + " " + Math.round(f.width) + " "
      + Math.round(f.height) + " " + colors.join(";") + " " + title);
  });
  out.push("PAGE " + document.documentElement.scrollWidth + " " + document.documentElement.scrollHeight);
  out.push(bad.length ? "VERDICT FAIL " + bad.slice(0, 12).join(" | ") : "VERDICT OK " + charts.length + " charts");
  var pre = document.createElement("pre");
  pre.id = "report-check";
  pre.textContent = "\n" + out.join("\n") + "\n";
  document.body.appendChild(pre);
})();
</script>'

# The pixel probe: draws the screenshot (a data: URL, so the canvas is readable) and counts,
# per chart, pixels within a tolerance of one of its series colors (areas blended over white).
pixel_page() {  # $1 = PNG, $2 = chart lines, $3 = page height
    {
        printf '<!DOCTYPE html><html><body><pre id="pixels"></pre><script>\n'
        printf 'var charts = [\n'
        while read -r _ x y w h colors _; do
            printf '  {x:%s,y:%s,w:%s,h:%s,colors:"%s"},\n' "$x" "$y" "$w" "$h" "$colors"
        done < "$2"
        printf '];\nvar pageHeight = %s;\n' "$3"
        cat <<'JS'
var img = new Image();
img.onload = function () {
  var c = document.createElement("canvas");
  c.width = img.width; c.height = img.height;
  var g = c.getContext("2d");
  g.drawImage(img, 0, 0);
  var out = [], bad = [];
  var all = g.getImageData(0, 0, img.width, img.height).data, ink = 0;
  for (var i = 0; i < all.length; i += 4 * 7) if (all[i] < 235 || all[i + 1] < 235 || all[i + 2] < 235) ink++;
  var inkShare = ink / (all.length / (4 * 7));
  out.push("SCREENSHOT " + img.width + "x" + img.height + " non-white " + (inkShare * 100).toFixed(1) + "%");
  if (inkShare < 0.02) bad.push("the page is (nearly) blank: " + (inkShare * 100).toFixed(2) + "% non-white pixels");
  charts.forEach(function (ch, k) {
    if (ch.y + ch.h > img.height) { out.push("chart " + k + " below the screenshot, not pixel-checked"); return; }
    var targets = ch.colors.split(";").filter(function (s) { return s.length; }).map(function (s) {
      var v = s.split(",").map(Number), a = v[3];
      return [v[0] * a + 255 * (1 - a), v[1] * a + 255 * (1 - a), v[2] * a + 255 * (1 - a)];
    });
    var d = g.getImageData(ch.x, ch.y, ch.w, ch.h).data, hits = 0, nonWhite = 0;
    for (var i = 0; i < d.length; i += 4) {
      var r = d[i], gg = d[i + 1], b = d[i + 2];
      if (r < 240 || gg < 240 || b < 240) nonWhite++;
      for (var t = 0; t < targets.length; t++) {
        var q = targets[t];
        if (Math.abs(r - q[0]) < 28 && Math.abs(gg - q[1]) < 28 && Math.abs(b - q[2]) < 28) { hits++; break; }
      }
    }
    var share = nonWhite / (ch.w * ch.h);
    out.push("chart " + k + ": " + hits + " pixels in series colors, " + (share * 100).toFixed(1) + "% non-white");
    if (hits < 100) bad.push("chart " + k + " at y=" + ch.y + ": only " + hits + " pixels in its series colors (data not visible)");
    if (share < 0.01) bad.push("chart " + k + " at y=" + ch.y + ": blank (" + (share * 100).toFixed(2) + "% non-white)");
  });
  out.push(bad.length ? "VERDICT FAIL " + bad.slice(0, 12).join(" | ") : "VERDICT OK");
  document.getElementById("pixels").textContent = "\n" + out.join("\n") + "\n";
};
img.onerror = function () { document.getElementById("pixels").textContent = "\nVERDICT FAIL the screenshot does not decode\n"; };
JS
        printf 'img.src = "data:image/png;base64,'
        base64 -w0 "$1"
        printf '";\n</script></body></html>\n'
    } > "$4"
}

# Checks one report (at least $2 charts, default 4); prints what it found; returns 0 if it
# renders right.
check() {
    local report=$1 min_charts=${2:-4} name
    name=$(basename "$(dirname "$report")")-$(basename "$report" .html)
    local dir="$work/$name"
    mkdir -p "$dir"
    if [ ! -s "$report" ]; then echo "check-report: $report: empty or missing"; return 1; fi
    # 1. Layout and DOM probe.
    { sed 's#</body></html>##' "$report"; printf '%s\n</body></html>\n' "${probe_script//__MIN_CHARTS__/$min_charts}"; } > "$dir/probe.html"
    chrome --window-size=$WIDTH,1000 --dump-dom "file://$dir/probe.html" > "$dir/dom.html" || true
    sed -n '/<pre id="report-check">/,/<\/pre>/p' "$dir/dom.html" | grep -E '^(CHART|PAGE|VERDICT)' > "$dir/probe.txt" || true
    if ! grep -q '^VERDICT' "$dir/probe.txt"; then
        no_verdict "$report: the DOM probe"; return 1
    fi
    local verdict; verdict=$(grep '^VERDICT' "$dir/probe.txt")
    echo "check-report: $name: DOM: ${verdict#VERDICT }"
    [[ $verdict == "VERDICT OK"* ]] || return 1
    # 2. Screenshot of the whole page (up to MAX_HEIGHT), decoded and counted in Chromium.
    local height; height=$(awk '/^PAGE/ {print $3}' "$dir/probe.txt")
    [ "$height" -gt "$MAX_HEIGHT" ] && height=$MAX_HEIGHT
    chrome --window-size=$WIDTH,"$height" --screenshot="$dir/shot.png" "file://$(realpath "$report")" > /dev/null || true
    if [ ! -s "$dir/shot.png" ]; then echo "check-report: $report: no screenshot"; return 1; fi
    grep '^CHART' "$dir/probe.txt" > "$dir/charts.txt"
    pixel_page "$dir/shot.png" "$dir/charts.txt" "$height" "$dir/pixels.html"
    chrome --window-size=800,600 --dump-dom "file://$dir/pixels.html" > "$dir/pixels-dom.html" || true
    sed -n '/<pre id="pixels">/,/<\/pre>/p' "$dir/pixels-dom.html" | grep -E '^(SCREENSHOT|chart|VERDICT)' > "$dir/pixels.txt" || true
    if ! grep -q '^VERDICT' "$dir/pixels.txt"; then
        no_verdict "$report: the pixel probe"; return 1
    fi
    verdict=$(grep '^VERDICT' "$dir/pixels.txt")
    echo "check-report: $name: pixels: $(grep '^SCREENSHOT' "$dir/pixels.txt" | cut -d' ' -f2-); ${verdict#VERDICT }"
    [[ $verdict == "VERDICT OK"* ]]
}

if [ $# -ge 1 ]; then
    status=0
    for f in "$@"; do check "$f" || { echo "check-report: FAIL $f" >&2; status=1; }; done
    exit $status
fi

# No argument: a short run with --report, its check, then the self-test.
if [ ! -x "$OVERCOMMIT" ]; then
    echo "check-report: $OVERCOMMIT not built (make debug-bin)" >&2
    exit 2
fi
scenario=scripts/report-check.yaml
"$OVERCOMMIT" run "$scenario" --out "$work/run" --report --quiet
good="$work/run/report.html"
check "$good" || { echo "check-report: FAIL: the report of $scenario does not render right" >&2; exit 1; }

# The experiment pages: a small sweep (two runs per point, so there are intervals) and a
# small consolidation, each drawn by `overcommit report DIR`.
"$OVERCOMMIT" sweep "$scenario" --set 'guests[web].memory=128MiB,192MiB,256MiB' --duration 2s --runs 2 \
    --out "$work/sweep" --quiet
"$OVERCOMMIT" report "$work/sweep" --quiet
check "$work/sweep/report.html" 3 || { echo "check-report: FAIL: the sweep page does not render right" >&2; exit 1; }
"$OVERCOMMIT" consolidate "$scenario" --vm web --max-vms 6 --duration 1s --max-oom-kills 1000 \
    --max-overcommit-penalty 1.05 --out "$work/consolidate" > /dev/null
"$OVERCOMMIT" report "$work/consolidate" --quiet
check "$work/consolidate/report.html" 1 || { echo "check-report: FAIL: the consolidation page does not render right" >&2; exit 1; }
if [ "${KEEP:-0}" = 1 ]; then
    cp "$work/sweep/report.html" "$work/sweep-report.html"; cp "$work/consolidate/report.html" "$work/consolidate-report.html"
fi

# Self-test: each broken copy must fail the check.
broken() {  # $1 = name, then a sed program that breaks the page
    local name=$1; shift
    sed "$@" "$good" > "$work/broken-$name.html"
    if check "$work/broken-$name.html" "${broken_min:-4}" > "$work/broken-$name.log" 2>&1; then
        cat "$work/broken-$name.log"
        echo "check-report: FAIL: self-test '$name' was not detected" >&2
        exit 1
    fi
    echo "check-report: self-test $name: detected ($(grep -o 'FAIL.*' "$work/broken-$name.log" | head -1 | cut -c1-110))"
}
broken empty-svg -e '/<svg class="chart"/,/<\/svg>/{/<svg class="chart"/!{/<\/svg>/!d}}'
broken no-data -e '/<path class="series/d'
broken nan -e '0,/d="M[0-9.]*,/s//d="MNaN,/'
broken zero-size -e 's#</style>#svg.chart{width:0!important;height:0!important}</style>#'
broken invisible-data -e 's#</style>#svg.chart .data path{stroke:\#fff!important;fill:\#fff!important}</style>#'
broken blank-page -e 's#</style>#body{filter:brightness(0) invert(1)}</style>#'
# The sweep page too: without its data series, or with its data painted white.
good="$work/sweep/report.html" broken_min=3
broken sweep-no-data -e '/<path class="series/d'
broken sweep-invisible -e 's#</style>#svg.chart .data *{stroke:\#fff!important;fill:\#fff!important}</style>#'
echo "check-report: ok"
