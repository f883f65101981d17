#!/usr/bin/env bash
# Proves the Slurm recipe of docs/howto-sweeps.md on a real Slurm: starts a one-node cluster on
# this machine (munged, slurmctld, slurmd), submits the doc's job-array script and its merge job
# exactly as the doc shows them, waits, and checks that the merged sweep is byte-identical to
# the same sweep run unsharded. Stops the daemons and removes its scratch directory at the end.
#
#   OVERCOMMIT=.build/debug/overcommit scripts/slurm-check.sh
#
# Needs root (the daemons run as root here, as on a single-user test node) and Debian's
# slurm-wlm and munge, which it installs when missing. Takes 2-4 minutes on two cores with a
# debug binary (apt downloads not counted). SLURM_CHECK_KEEP=1 keeps the scratch directory.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${OVERCOMMIT:-$top/.build/debug/overcommit}")
doc="$top/docs/howto-sweeps.md"
[ -x "$bin" ] || { echo "slurm-check: no overcommit binary at $bin (build it, or set OVERCOMMIT)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "slurm-check: must run as root (it starts slurmctld, slurmd and munged)" >&2; exit 1; }

"$top/scripts/setup-deps.sh" slurm-wlm munge

work=$(mktemp -d /tmp/overcommit-slurm.XXXXXX)
chmod 755 "$work"
conf="$work/etc/slurm.conf"
export SLURM_CONF="$conf"
munge_socket="$work/munge/munge.socket.2"
pids=()

log() { printf 'slurm-check: %s\n' "$*"; }
cleanup() {
    local rc=$?
    if [ -f "$conf" ]; then scontrol shutdown >/dev/null 2>&1 || true; fi
    sleep 1
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -f "$work/munge/munged.pid" ] && kill "$(cat "$work/munge/munged.pid")" 2>/dev/null || true
    if [ $rc -ne 0 ]; then
        log "FAILED; daemon logs follow"
        for f in "$work"/log/*.log "$work"/munge/munged.log "$work"/run/sweep-shards/slurm-*.out "$work"/run/merge-*.out; do
            [ -f "$f" ] && { echo "---- $f"; tail -n 30 "$f"; }
        done
    fi
    if [ "${SLURM_CHECK_KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
    exit $rc
}
trap cleanup EXIT

# --- The recipe, taken from the doc: the first ```bash block after "### Slurm job array" is the
# job script, the next one the submission commands.
blocks=$(awk '
    /^### Slurm job array/ { on = 1; next }
    on && /^### / { exit }
    on && /^```bash$/ { n++; inblock = 1; print "@@BLOCK " n; next }
    on && /^```$/ { inblock = 0; next }
    on && inblock { print }
' "$doc")
job_script=$(printf '%s\n' "$blocks" | awk '/^@@BLOCK 1$/ { on = 1; next } /^@@BLOCK / { on = 0 } on')
submit=$(printf '%s\n' "$blocks" | awk '/^@@BLOCK 2$/ { on = 1; next } /^@@BLOCK / { on = 0 } on')
[ -n "$job_script" ] && [ -n "$submit" ] || { log "cannot find the job script and the submission commands in $doc"; exit 1; }
grep -q -- '--array=' <<<"$job_script" || { log "the doc's job script has no --array"; exit 1; }

# --- munge, with its own socket and the package's key.
mkdir -p "$work/munge" "$work/log" "$work/spool/ctld" "$work/spool/d" "$work/etc" "$work/run"
chown munge:munge "$work/munge"
[ -s /etc/munge/munge.key ] || { mungekey --create --force >/dev/null 2>&1 || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=128 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
mkdir -p /var/lib/munge /var/log/munge && chown munge:munge /var/lib/munge /var/log/munge
runuser -u munge -- munged --socket="$munge_socket" --pid-file="$work/munge/munged.pid" \
    --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed" --force
munge -S "$munge_socket" -n | unmunge -S "$munge_socket" >/dev/null || { log "munge does not work"; exit 1; }

# --- A one-node cluster: this host is controller and compute node.
host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.8 }' /proc/meminfo)
port=$((20000 + $$ % 10000))
cat > "$conf" <<EOF
ClusterName=overcommit-check
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$munge_socket
CredType=cred/munge
StateSaveLocation=$work/spool/ctld
SlurmdSpoolDir=$work/spool/d
SlurmctldPidFile=$work/run-slurmctld.pid
SlurmdPidFile=$work/run-slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=check Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$conf" -i
slurmd -f "$conf"
for _ in $(seq 1 60); do
    state=$(sinfo -h -n "$host" -o '%t' 2>/dev/null || true)
    case "$state" in idle*|mix*) break ;; esac
    sleep 1
done
case "$state" in idle*|mix*) log "cluster up: node $host ($cpus CPUs) $state" ;; *) log "node did not come up (state '$state')"; exit 1 ;; esac

# --- The doc's recipe, run as written, in a directory laid out like a checkout.
cd "$work/run"
cp -r "$top/Configs" .
printf '%s\n' "$job_script" > sweep.sbatch
mkdir -p bin && ln -s "$bin" bin/overcommit
export PATH="$work/run/bin:$PATH"
log "submitting the doc's job array and merge job"
printf '%s\n' "$submit" > submit.sh
bash -euo pipefail submit.sh
for _ in $(seq 1 900); do
    [ -z "$(squeue -h 2>/dev/null)" ] && break
    sleep 1
done
[ -z "$(squeue -h)" ] || { log "jobs still queued or running after 15 minutes:"; squeue; exit 1; }

shards=$(ls -d sweep-shards/shard-* 2>/dev/null | wc -l)
array=$(sed -n 's/^#SBATCH --array=0-\([0-9]*\).*/\1/p' sweep.sbatch)
[ "$shards" -eq $((array + 1)) ] || { log "expected $((array + 1)) shard directories, found $shards"; exit 1; }
[ -f sweep-result/sweep.csv ] || { log "the merge job wrote no sweep-result/sweep.csv"; exit 1; }

# --- The same sweep, unsharded: the job script's sweep command without --jobs, --shard, --out.
cmd=$(printf '%s\n' "$job_script" | sed -n '/^overcommit sweep/,/[^\\]$/p' | sed 's/\\$//' | tr '\n' ' ' | tr -s ' ')
cmd=$(sed -E 's/--jobs +"?[^ "]*"?//; s/--shard +"?[^ "]*"?//; s/--out +"?[^ "]*"?//' <<<"$cmd")
log "unsharded: $cmd--out sweep-local"
eval "$cmd --out sweep-local --quiet"
if diff -r sweep-local sweep-result > diff.txt; then
    log "ok: $shards shards through sbatch --array and the merge job equal the unsharded sweep byte for byte"
else
    head -40 diff.txt
    log "the merged sweep differs from the unsharded one"
    exit 1
fi
