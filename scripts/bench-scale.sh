#!/usr/bin/env bash
# bench-scale.sh: run the scale ladder (Configs/scale/) and print, per rung, the CPU time,
# wall time, peak resident memory and simulated seconds per wall second, next to the run's
# own cost estimate (docs/performance.md, "The scale ladder").
#
#   scripts/bench-scale.sh BIN [RUNG...]        RUNG: a file under Configs/scale/ (default: all)
#   DURATION=60s scripts/bench-scale.sh BIN     shorter runs (the rungs are one hour each)
#   OUT=/tmp/ladder                            where the runs' outputs go (default: a temporary dir)
#   THREADS="1 2" scripts/bench-scale.sh BIN    one row per rung and --threads value (default: 1 2;
#                                              the outputs of every thread count are byte-identical)
#
# Needs GNU time (/usr/bin/time -v). Output: one Markdown table row per rung.
set -euo pipefail
bin=${1:?usage: bench-scale.sh BIN [RUNG...]}
shift
rungs=("$@")
if [ ${#rungs[@]} -eq 0 ]; then rungs=(Configs/scale/host-64g-16vm.yaml Configs/scale/host-256g-48vm.yaml Configs/scale/host-1t-128vm.yaml); fi
[ -x /usr/bin/time ] || { echo "bench-scale: /usr/bin/time (GNU time) is needed: apt-get install -y time" >&2; exit 1; }
out=${OUT:-$(mktemp -d /tmp/bench-scale.XXXXXX)}
mkdir -p "$out"
dur=()
[ -n "${DURATION:-}" ] && dur=(--duration "$DURATION")
echo "| rung | threads | simulated | CPU s | wall s | peak RSS | sim-s per wall-s | estimate |"
echo "|---|---|---|---|---|---|---|---|"
for r in "${rungs[@]}"; do
  for t in ${THREADS:-1 2}; do
    base=$(basename "$r" .yaml)
    name=$base-t$t
    estimate=$("$bin" validate "$r" "${dur[@]}" 2>/dev/null | sed -n 's/^ *estimate: //p' | head -1)
    /usr/bin/time -v -o "$out/$name.time" "$bin" run "$r" "${dur[@]}" --threads "$t" --out "$out/$name" --force --quiet --force-memory \
        2> "$out/$name.stderr" || { echo "bench-scale: $name failed, see $out/$name.stderr" >&2; exit 1; }
    user=$(sed -n 's/^\s*User time (seconds): //p' "$out/$name.time")
    sys=$(sed -n 's/^\s*System time (seconds): //p' "$out/$name.time")
    wall=$(sed -n 's/^\s*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out/$name.time" \
        | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss=$(sed -n 's/^\s*Maximum resident set size (kbytes): //p' "$out/$name.time")
    sim=$(sed -n 's/^ *"simulated_s": *\([0-9.]*\).*/\1/p' "$out/$name/summary.json" | head -1)
    [ -n "$sim" ] || sim=$(awk '/^duration:/ { print $2 }' "$out/$name/scenario.resolved.yaml")
    awk -v n="$base" -v t="$t" -v s="$sim" -v u="$user" -v y="$sys" -v w="$wall" -v k="$rss" -v e="$estimate" 'BEGIN {
        printf "| %s | %s | %s | %.0f | %.0f | %.2f GB | %.3f | %s |\n", n, t, s, u + y, w, k * 1024 / 1e9, (w > 0 ? s / w : 0), e }'
  done
  # The thread counts must not change a byte of the outputs.
  first=""
  for t in ${THREADS:-1 2}; do
    if [ -z "$first" ]; then first=$t; continue; fi
    diff -rq "$out/$base-t$first" "$out/$base-t$t" > /dev/null || { echo "bench-scale: $base: outputs differ between --threads $first and $t" >&2; exit 1; }
  done
done
