#!/usr/bin/env bash
# Writes Configs/images/sample.img: a small raw "memory image" (1 MiB = 256 pages of 4 KiB)
# for Configs/memory-image.yaml. Deterministic: the same bytes on every machine.
#
#   scripts/make-sample-image.sh [OUTPUT]      (default Configs/images/sample.img)
#
# A real guest RAM dump (QEMU `dump-guest-memory`, an ESX .vmem file) is mostly zero pages,
# with runs of identical pages (the same library or kernel page in several places), text
# (logs, configuration, HTML) and same-filled pages (memset patterns). This image has:
#
#   pages     content                                            count
#   0-15      zero                                                  16
#   16-47     distinct text pages (web-server access log lines)     32
#   48-79     8 distinct "library" pages, each repeated 4 times      32
#   80-119    zero                                                  40
#   120-151   distinct text pages (log lines, continued)            32
#   152-167   same-filled: the 64-bit word 0x00000000deadbeef        16
#   168-199   the same 8 "library" pages, each repeated 4 more times 32
#   200-239   zero                                                  40
#   240-255   same-filled: the 64-bit word 0x0101010101010101       16
#
# Totals: 96 zero pages (37.5 %), 64 text pages, 64 copies of 8 distinct pages, 32
# same-filled pages in two patterns: 8 + 64 + 2 + 1 = 75 distinct page contents in 256.
set -euo pipefail
export LC_ALL=C

out="${1:-Configs/images/sample.img}"
page=4096
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# n zero pages.
zero() { dd if=/dev/zero bs=$page count="$1" status=none; }

# 64 pages of access-log text, cut into pages; $1 = first page, $2 = count.
awk 'BEGIN {
    split("GET GET GET POST GET HEAD", m, " ")
    split("/ /index.html /static/app.js /static/app.css /api/v1/items /img/logo.png /login /favicon.ico", p, " ")
    split("200 200 200 304 200 404 200 301", s, " ")
    for (i = 0; i < 4200; i++) {
        printf "10.0.%d.%d - - [22/Nov/2026:10:%02d:%02d +0000] \"%s %s HTTP/1.1\" %s %d \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n",
            (i * 7) % 256, (i * 13) % 256, (i / 60) % 60, i % 60, m[i % 6 + 1], p[(i * 3) % 8 + 1], s[(i * 5) % 8 + 1], 200 + (i * 37) % 9000
    }
}' > "$tmp/text"
text() { dd if="$tmp/text" bs=$page skip="$1" count="$2" status=none; }

# 8 distinct "library" pages: a 64-byte record repeated, different per page.
for k in 0 1 2 3 4 5 6 7; do
    rec="$(printf '%-63.63s' "libfoo.so.$k .rodata symbol $((k * 1111)): version GLIBC_2.$((30 + k)) default")"
    for _ in $(seq 64); do printf '%s\n' "$rec"; done > "$tmp/lib$k"
    [ "$(wc -c < "$tmp/lib$k")" -eq "$page" ]
done
libs() { for _ in 1 2 3 4; do for k in 0 1 2 3 4 5 6 7; do cat "$tmp/lib$k"; done; done; }

# n pages filled with one 8-byte little-endian word given as \x escapes.
pattern() {
    local word="$2" one
    one="$(for _ in $(seq 512); do printf '%s' "$word"; done)"
    for _ in $(seq "$1"); do printf "$one"; done
}

mkdir -p "$(dirname "$out")"
{
    zero 16
    text 0 32
    libs
    zero 40
    text 32 32
    pattern 16 '\xef\xbe\xad\xde\x00\x00\x00\x00'
    libs
    zero 40
    pattern 16 '\x01\x01\x01\x01\x01\x01\x01\x01'
} > "$out"

size=$(wc -c < "$out")
if [ "$size" -ne $(( 256 * page )) ]; then
    echo "make-sample-image: $out has $size bytes, expected $(( 256 * page ))" >&2
    exit 1
fi
echo "wrote $out: $size bytes, 256 pages"
