#!/usr/bin/env bash
# Scale benchmark: generate a seeded synthetic catalogue, train with the
# default config and a word-only config, and print train time, peak memory,
# model size and query latency (p50 / p99, with explanation).
#
# Usage: scripts/bench.sh [--size 100k|1m] ...   (default: 100k and 1m)
# Data goes to bench-data/ (git-ignored); re-runs reuse the catalogue.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

sizes=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --size) sizes+=("$2"); shift 2 ;;
        *) echo "usage: scripts/bench.sh [--size 100k|1m]..." >&2; exit 2 ;;
    esac
done
[[ ${#sizes[@]} -gt 0 ]] || sizes=(100k 1m)
command -v /usr/bin/time >/dev/null || { echo "bench.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

cargo build --release --quiet
bin=$root/target/release/prodsim
mkdir -p bench-data
seed=42
rows=()

for size in "${sizes[@]}"; do
    case $size in
        100k) n=100000 ;;
        1m) n=1000000 ;;
        *) echo "bench.sh: unknown size $size" >&2; exit 2 ;;
    esac
    cat=bench-data/synth-$size.csv
    [[ -f $cat ]] || "$bin" generate --items "$n" --seed "$seed" --out "$cat" >/dev/null
    for cfg in default words; do
        model=bench-data/synth-$size-$cfg.psm
        extra=()
        [[ $cfg == words ]] && extra=(--set char_ngrams=[0,0])
        log=bench-data/train-$size-$cfg.log
        /usr/bin/time -v "$bin" train --catalog "$cat" --fields title,brand --out "$model" "${extra[@]}" >"$log.out" 2>"$log"
        secs=$(awk '/Elapsed \(wall clock\)/ {split($NF, a, ":"); s = 0; for (i = 1; i <= length(a); i++) s = s * 60 + a[i]; print s}' "$log")
        rss=$(awk '/Maximum resident set size/ {printf "%.0f", $NF / 1024}' "$log")
        bytes=$(stat -c %s "$model")
        nnz=$("$bin" info --model "$model" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["meta"]["nonzeros"])')
        q=$(PRODSIM_BENCH_MODEL=$model PRODSIM_BENCH_ITEMS=$n PRODSIM_BENCH_SEED=$seed \
            cargo bench --quiet --bench query_latency 2>/dev/null)
        tp50=$(grep query_text <<<"$q" | sed 's/.*p50_ms=\([0-9.]*\).*/\1/')
        tp99=$(grep query_text <<<"$q" | sed 's/.*p99_ms=\([0-9.]*\).*/\1/')
        ip50=$(grep query_item <<<"$q" | sed 's/.*p50_ms=\([0-9.]*\).*/\1/')
        ip99=$(grep query_item <<<"$q" | sed 's/.*p99_ms=\([0-9.]*\).*/\1/')
        open=$(sed -n 's/model_open_ms=//p' <<<"$q")
        rows+=("$(printf '%-5s %-8s %9s %9s %8s %10s %8s %8s %8s %8s %8s %9s' \
            "$size" "$cfg" "$secs" "$rss" "$((bytes / 1048576))" "$((nnz / n))" \
            "$((bytes / n))" "$open" "$tp50" "$tp99" "$ip50" "$ip99")")
    done
done

printf '%-5s %-8s %9s %9s %8s %10s %8s %8s %8s %8s %8s %9s\n' size config train_s peak_MB model_MB nnz/item B/item open_ms text_p50 text_p99 item_p50 item_p99
printf '%s\n' "${rows[@]}"
echo "(latencies in ms, k=10 with full explanation; $(nproc) cores; $(date -u +%Y-%m-%d))"
