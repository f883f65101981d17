#!/usr/bin/env bash
# Regenerates README.md's first-run block (between <!-- first-run ... --> and
# <!-- /first-run -->) from a real run of the built-in default scenario, so the figures a
# newcomer reads are the ones `make run` prints. OVERCOMMIT picks the binary (default: the
# release build, as `make run` uses).
set -euo pipefail
cd "$(dirname "$0")/.."
OVERCOMMIT="${OVERCOMMIT:-.build/release/overcommit}"
out=$("$OVERCOMMIT" run)
tmp=$(mktemp README.md.XXXXXX)
awk -v out="$out" '
    /^<!-- first-run/ { print; print "```"; print out; print "```"; skip = 1; next }
    /^<!-- \/first-run -->/ { skip = 0 }
    !skip { print }
' README.md > "$tmp"
mv "$tmp" README.md
echo "README.md: first-run block regenerated from '$OVERCOMMIT run'"
