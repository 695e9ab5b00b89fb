#!/usr/bin/env bash
# Scale benchmark: prodsim against a scikit-learn / sparse_dot_topn reference
# on the same seeded synthetic catalogue, in the same run, printed as one table
# (operation, size, config, prodsim median, reference median, ratio, peak
# memory of each) plus prodsim's model size per item and per non-zero.
#
# Usage: scripts/bench.sh [--size 100k|1m]... [--repeat N] [--repeat-long N]
#                         [--only prodsim|reference] [--config default|words]...
#                         [--allpairs-rows N] [--ops OP[,OP]...] [--no-build]
#                         [--keep-caches]
#
#   --size           catalogue size, repeatable (default: 100k)
#   --repeat N       runs of each short operation, median reported (default 3)
#   --repeat-long N  runs of the long ones: all-pairs top-10 at every size and
#                    training at 1m (default 1)
#   --only SIDE      measure one side only (for iterating); the table shows
#                    '-' for the other
#   --config CFG     `default` (word 1-2-grams + char 2-4-grams) and/or `words`
#                    (word 1-2-grams only); default both
#   --allpairs-rows N  all-pairs top-10 over the first N items only (both sides
#                    the same rows, prodsim via `batch --shard 1/K`), then
#                    extrapolated linearly to every item; default: every item
#                    up to 100k, 20000 rows above
#   --ops OPS        which operations to measure, comma separated, out of
#                    train, query, allpairs (default all three); query and
#                    allpairs use the models left in bench-data/ when train
#                    is not run
#   --no-build       skip cargo: use target/release/prodsim and the newest
#                    built benches/query_latency as they are
#   --keep-caches    do not drop the page cache before each process (see below)
#
# Per size and config, with /usr/bin/time -v around every process (peak RSS):
#   train     prodsim train --fields title,brand   | bench_ref.py train
#   query     benches/query_latency (model open,    | bench_ref.py query (load,
#             text and item queries, k=10, with     | text and item queries:
#             explanation; in-process timing)       | transform + dot + top 10)
#   all-pairs prodsim batch --k 10                  | bench_ref.py allpairs
#                                                     (sparse_dot_topn)
# prodsim and reference runs alternate so a change in machine load hits both.
# Every process starts from the same memory state: dirty pages are written
# back and the page cache is dropped (when /proc/sys/vm/drop_caches is
# writable, i.e. as root), then the process's input files are read once so
# they are cached. Without this, the cache fills up with the catalogues and
# models of earlier runs, and a process that allocates or writes gigabytes
# first has the kernel evict them: at 1M items that added 2-4 s to prodsim's
# model writing and made runs of the same binary differ by as much.
#
# Everything goes to bench-data/ (git-ignored): the catalogues and models are
# reused or overwritten, each run's raw logs go to bench-data/runs/<time>/
# with the table in table.txt. The reference's Python packages are pinned in
# scripts/requirements-bench.txt and installed into .venv (as quality.sh does).
#
# Exit status: 0 all measurements done, 1 some failed (table shows them),
# 2 bad usage or setup failure.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
started=$SECONDS

die() {
    echo "bench.sh: $*" >&2
    exit 2
}
usage() {
    # The header comment from "Usage:" up to the description of the runs.
    awk '/^# Per size and config/ { exit } /^# Usage:/ { on = 1 } on { sub(/^# ?/, ""); print }' "$0" >&2
    exit 2
}

sizes=()
configs=()
repeat=3
repeat_long=1
only=
allpairs_rows=
ops=
build=1
keep_caches=0
while [[ $# -gt 0 ]]; do
    case $1 in
        -h | --help) usage ;;
        --no-build) build=0; shift; continue ;;
        --keep-caches) keep_caches=1; shift; continue ;;
        --size | --config | --repeat | --repeat-long | --only | --allpairs-rows | --ops)
            [[ $# -ge 2 ]] || { echo "bench.sh: $1 needs a value" >&2; usage; } ;;
        *) echo "bench.sh: unknown option $1" >&2; usage ;;
    esac
    case $1 in
        --size) sizes+=("$2") ;;
        --config) configs+=("$2") ;;
        --repeat) repeat=$2 ;;
        --repeat-long) repeat_long=$2 ;;
        --only) only=$2 ;;
        --allpairs-rows) allpairs_rows=$2 ;;
        --ops) ops=$2 ;;
    esac
    shift 2
done
[[ ${#sizes[@]} -gt 0 ]] || sizes=(100k)
[[ ${#configs[@]} -gt 0 ]] || configs=(default words)
for s in "${sizes[@]}"; do [[ $s == 100k || $s == 1m ]] || die "--size $s: expected 100k or 1m"; done
for c in "${configs[@]}"; do [[ $c == default || $c == words ]] || die "--config $c: expected default or words"; done
[[ -z $only || $only == prodsim || $only == reference ]] || die "--only $only: expected prodsim or reference"
[[ $repeat =~ ^[1-9][0-9]*$ ]] || die "--repeat $repeat: expected a positive whole number"
[[ $repeat_long =~ ^[1-9][0-9]*$ ]] || die "--repeat-long $repeat_long: expected a positive whole number"
[[ -z $allpairs_rows || $allpairs_rows =~ ^[1-9][0-9]*$ ]] || die "--allpairs-rows $allpairs_rows: expected a positive whole number"
[[ -x /usr/bin/time ]] || die "needs GNU time at /usr/bin/time for peak memory (apt-get install time)"
want() { [[ -z $only || $only == "$1" ]]; }
for o in ${ops//,/ }; do [[ $o == train || $o == query || $o == allpairs ]] || die "--ops $ops: expected train, query and/or allpairs"; done
op() { [[ -z $ops || ",$ops," == *",$1,"* ]]; }

seed=42
query_seed=24301
mkdir -p bench-data/runs
run=bench-data/runs/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$run/bin"
# A run stopped halfway (Ctrl-C, a failed setup step) is renamed
# <time>-incomplete, so its partial logs are never taken for a finished run.
finished=0
mark_incomplete() {
    if ((!finished)) && [[ -d $run ]]; then
        mv "$run" "$run-incomplete" 2>/dev/null && echo "bench.sh: stopped early; partial logs in $run-incomplete" >&2
    fi
}
trap mark_incomplete EXIT
trap 'exit 130' INT TERM

# --- Python reference environment (the same .venv as scripts/quality.sh) ---
py=$root/.venv/bin/python
if want reference; then
    if [[ ! -x $py ]]; then
        echo "== creating .venv" >&2
        python3 -m venv "$root/.venv" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    fi
    # Install only when a pinned version is missing, so re-runs stay offline.
    if ! "$py" - scripts/requirements-bench.txt <<'EOF' 2>/dev/null; then
import sys
from importlib.metadata import version
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line:
        name, want = line.split("==")
        if version(name) != want:
            sys.exit(1)
EOF
        echo "== installing scripts/requirements-bench.txt into .venv" >&2
        "$py" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
            -r scripts/requirements-bench.txt || die "pip install -r scripts/requirements-bench.txt failed"
    fi
fi
tpy=$py
[[ -x $tpy ]] || tpy=python3

# --- prodsim binaries, copied into the run folder so a rebuild during the run
# (others work in this tree) cannot mix two versions in one table ---
if ((build)); then
    echo "== cargo build --release" >&2
    if ! cargo build --release --quiet; then
        [[ -x target/release/prodsim ]] || die "cargo build --release failed and there is no target/release/prodsim"
        echo "bench.sh: WARNING: cargo build --release failed; using the existing target/release/prodsim" >&2
    fi
fi
[[ -x target/release/prodsim ]] || die "no target/release/prodsim (run without --no-build)"
cp -p target/release/prodsim "$run/bin/prodsim"
bin=$root/$run/bin/prodsim
bench_exe=
if want prodsim; then
    if ((build)); then
        echo "== cargo bench --no-run --bench query_latency" >&2
        bench_exe=$(cargo bench --quiet --no-run --bench query_latency --message-format=json 2>/dev/null |
            "$tpy" -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "query_latency" and m.get("executable"):
        print(m["executable"])') || true
        [[ -n $bench_exe ]] || echo "bench.sh: WARNING: cargo bench --no-run failed; using the newest built query_latency" >&2
    fi
    if [[ -z $bench_exe ]]; then
        bench_exe=$(ls -t target/release/deps/query_latency-* 2>/dev/null | grep -v '\.d$' | head -1) || true
        [[ -n $bench_exe ]] || die "no benches/query_latency.rs binary (cargo bench --no-run failed or was skipped)"
    fi
    echo "query_latency: $bench_exe (built $(date -u -r "$bench_exe" +%Y-%m-%dT%H:%M:%SZ))" >&2
    cp -p "$bench_exe" "$run/bin/query_latency"
    bench_exe=$root/$run/bin/query_latency
fi
dirty=$(git status --porcelain -- src benches Cargo.toml Cargo.lock 2>/dev/null | wc -l)
{
    echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "dirty_files=$dirty"
    echo "prodsim_version=$("$bin" --version 2>/dev/null || echo unknown)"
    echo "python=$([[ -x $py ]] && "$py" -c 'import platform; print(platform.python_version())' || echo -)"
    echo "nproc=$(nproc)"
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "repeat=$repeat"
    echo "repeat_long=$repeat_long"
    echo "only=${only:-both}"
    echo "built=$build"
    echo "prodsim_mtime=$(date -u -r "$bin" +%Y-%m-%dT%H:%M:%SZ)"
    if [[ -n $bench_exe ]]; then echo "query_latency_mtime=$(date -u -r "$bench_exe" +%Y-%m-%dT%H:%M:%SZ)"; fi
} >"$run/meta.txt"

cache_state="kept (--keep-caches)"
if ((!keep_caches)); then
    if [[ -w /proc/sys/vm/drop_caches ]] && sync && echo 1 >/proc/sys/vm/drop_caches 2>/dev/null; then
        cache_state="dropped before each process, inputs read once"
    else
        cache_state="kept (/proc/sys/vm/drop_caches not writable: run as root to drop it)"
        keep_caches=1
    fi
fi
echo "page_cache=$cache_state" >>"$run/meta.txt"
echo "page cache: $cache_state" >&2

# settle INPUT...: writes dirty pages back, drops the page cache, then reads
# the inputs (files, or every file under a folder) so they start cached.
settle() {
    ((keep_caches)) && return 0
    sync
    echo 1 >/proc/sys/vm/drop_caches 2>/dev/null || true
    local f
    for f in "$@"; do
        if [[ -d $f ]]; then
            find "$f" -type f -exec cat {} + >/dev/null 2>&1 || true
        elif [[ -f $f ]]; then
            cat "$f" >/dev/null 2>&1 || true
        fi
    done
    return 0
}

failed=0
# measure NAME CMD...: runs CMD under /usr/bin/time -v; NAME.out / .err / .time.
# Call settle first.
measure() {
    local name=$1
    shift
    if ! /usr/bin/time -v -o "$run/$name.time" "$@" >"$run/$name.out" 2>"$run/$name.err"; then
        echo "bench.sh: FAILED $name: $*" >&2
        tail -5 "$run/$name.err" | sed 's/^/    /' >&2
        touch "$run/$name.failed"
        failed=1
        return 1
    fi
}

for size in "${sizes[@]}"; do
    case $size in
        100k) n=100000 ;;
        1m) n=1000000 ;;
    esac
    train_runs=$repeat
    [[ $size == 1m ]] && train_runs=$repeat_long
    rows=${allpairs_rows:-$((n <= 100000 ? n : 20000))}
    ((rows > n)) && rows=$n
    shards=$(((n + rows - 1) / rows))
    rows=$((n / shards)) # what `--shard 1/K` covers: items [0, n/K)
    echo "size_${size}_items=$n" >>"$run/meta.txt"
    echo "size_${size}_allpairs_rows=$rows" >>"$run/meta.txt"

    cat=bench-data/synth-$size.csv
    if [[ ! -f $cat ]]; then
        echo "== generating $cat ($n items, seed $seed)" >&2
        "$bin" generate --items "$n" --seed "$seed" --out "$cat" >/dev/null || die "prodsim generate failed"
    fi
    queries=bench-data/queries-$size.txt
    if want reference && [[ ! -f $queries ]]; then
        "$py" scripts/bench_ref.py queries --catalog "$cat" --n 2000 --seed "$query_seed" --out "$queries" >/dev/null ||
            die "bench_ref.py queries failed"
    fi

    for cfg in "${configs[@]}"; do
        model=bench-data/synth-$size-$cfg.psm
        refdir=bench-data/ref-$size-$cfg
        extra=()
        [[ $cfg == words ]] && extra=(--set char_ngrams=[0,0])
        tag=${size}_$cfg

        for ((i = 1; i <= train_runs && $(op train && echo 1 || echo 0); i++)); do
            echo "== $size $cfg: train, run $i/$train_runs" >&2
            if want prodsim; then
                settle "$cat" "$bin"
                measure "${tag}_prodsim_train_$i" "$bin" train --catalog "$cat" --fields title,brand \
                    --out "$model" "${extra[@]}" || true
            fi
            if want reference; then
                settle "$cat" "$root/.venv" scripts
                measure "${tag}_reference_train_$i" "$py" scripts/bench_ref.py train --catalog "$cat" \
                    --config "$cfg" --out "$refdir" || true
            fi
        done
        if want prodsim && [[ -f $model ]]; then
            "$bin" info --model "$model" --format json >"$run/${tag}_prodsim_info.json" 2>/dev/null || true
        fi

        for ((i = 1; i <= repeat && $(op query && echo 1 || echo 0); i++)); do
            echo "== $size $cfg: query latency, run $i/$repeat" >&2
            if want prodsim && [[ -f $model ]]; then
                settle "$model" "$bench_exe"
                measure "${tag}_prodsim_query_$i" env PRODSIM_BENCH_MODEL="$model" PRODSIM_BENCH_ITEMS="$n" \
                    PRODSIM_BENCH_SEED="$seed" "$bench_exe" --bench || true
            fi
            if want reference && [[ -d $refdir ]]; then
                settle "$refdir" "$queries" "$root/.venv" scripts
                measure "${tag}_reference_query_$i" "$py" scripts/bench_ref.py query --dir "$refdir" \
                    --queries "$queries" --items 2000 || true
            fi
        done

        for ((i = 1; i <= repeat_long && $(op allpairs && echo 1 || echo 0); i++)); do
            echo "== $size $cfg: all-pairs top-10 over $rows of $n items, run $i/$repeat_long" >&2
            if want prodsim && [[ -f $model ]]; then
                settle "$model" "$bin"
                measure "${tag}_prodsim_allpairs_$i" "$bin" batch --model "$model" --k 10 \
                    --out "bench-data/batch-$size-$cfg.csv" --shard "1/$shards" || true
            fi
            if want reference && [[ -d $refdir ]]; then
                settle "$refdir" "$root/.venv" scripts
                measure "${tag}_reference_allpairs_$i" "$py" scripts/bench_ref.py allpairs --dir "$refdir" \
                    --rows "$rows" --k 10 --threads "$(nproc)" --out "bench-data/allpairs-$size-$cfg.csv" || true
            fi
        done
    done
done

{
    echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "total_s=$((SECONDS - started))"
} >>"$run/meta.txt"
"$tpy" scripts/bench_table.py "$run" | tee "$run/table.txt"
finished=1
echo "(raw logs: $run)"
exit "$failed"
