#!/usr/bin/env bash
# Explorer first frame: launches `prodsim tui` in a detached tmux session
# (120x40 by default) and polls `capture-pane` until
#   first frame  - the status line is drawn ("N items" on screen),
#   catalogue    - the status line no longer says the catalogue is loading
#                  (a build that reads the catalogue before drawing has it
#                  at the first frame),
# then types a query one key at a time and times each key until the query
# line shows it (echo), and until the ranking of exactly the text typed so
# far is on screen (rank: the breakdown pane explains a neighbour of that
# text, or the neighbours pane lists its last word as not in the
# vocabulary). Prints one row per model: median, min and max
# over the runs, in milliseconds.
#
#   scripts/first_frame.sh [--bin PATH] [--runs N] [--catalog CSV]
#                          [--query TEXT] [--size WxH] [--while-loading] MODEL...
#
# --while-loading types the query right after the first frame, while the
# catalogue is still being read (the catalogue column then includes that
# competition); by default the query is typed once the catalogue is in.
#
# Defaults: target/release/prodsim, 5 runs, $BENCH_DATA/synth-1m.csv and the
# models synth-1m-words.psm and synth-1m-default.psm there (BENCH_DATA
# defaults to bench-data/, which scripts/bench.sh --size 1m fills).
# Needs tmux and python3 (for the median only). Polling costs a few ms per
# sample, which is the resolution of these figures.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bin="$repo/target/release/prodsim"
runs=5
data=${BENCH_DATA:-$repo/bench-data}
catalog="$data/synth-1m.csv"
query="sony tv 55"
size="120x40"
while_loading=0
models=()
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) bin=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --catalog) catalog=$2; shift 2 ;;
        --query) query=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --while-loading) while_loading=1; shift ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) models+=("$1"); shift ;;
    esac
done
if [ ${#models[@]} -eq 0 ]; then
    models=("$data/synth-1m-words.psm" "$data/synth-1m-default.psm")
fi
for f in "$bin" "$catalog" "${models[@]}"; do
    [ -e "$f" ] || { echo "first_frame.sh: $f does not exist" >&2; exit 2; }
done
command -v tmux >/dev/null || { echo "first_frame.sh: needs tmux" >&2; exit 2; }
w=${size%x*}
h=${size#*x}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
session="prodsim-ff-$$"
cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; }
trap cleanup EXIT
screen() { tmux capture-pane -p -t "$session" 2>/dev/null || true; }

# Polls until the screen matches (grep -E), at most 120 s; prints the time.
wait_for() {
    local pattern=$1 deadline=$(($(now_ms) + 120000))
    while :; do
        if screen | grep -Eq -- "$pattern"; then
            now_ms
            return 0
        fi
        if [ "$(now_ms)" -gt "$deadline" ]; then
            echo "first_frame.sh: timed out waiting for /$pattern/; screen:" >&2
            screen >&2
            return 1
        fi
    done
}

# Like wait_for but the pattern must be absent.
wait_gone() {
    local pattern=$1 deadline=$(($(now_ms) + 120000))
    while :; do
        if ! screen | grep -Eq -- "$pattern"; then
            now_ms
            return 0
        fi
        if [ "$(now_ms)" -gt "$deadline" ]; then
            echo "first_frame.sh: timed out waiting for /$pattern/ to go; screen:" >&2
            screen >&2
            return 1
        fi
    done
}

stats() { # values on stdin -> "median min max"
    python3 -c 'import sys, statistics as s
v = [float(x) for x in sys.stdin.read().split()]
print(f"{s.median(v):.0f} {min(v):.0f} {max(v):.0f}" if v else "- - -")'
}

# Escapes a literal for grep -E.
ere() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }

printf '%-28s %-22s %-22s %-18s %-18s\n' "model" "first frame ms" "catalogue ms" "key echo ms" "key rank ms"
printf '%-28s %-22s %-22s %-18s %-18s\n' "" "median (min-max)" "median (min-max)" "median (max)" "median (max)"
for model in "${models[@]}"; do
    ff=() cat=() echo_ms=() rank_ms=() unranked=0
    for _ in $(seq "$runs"); do
        cleanup
        start=$(now_ms)
        tmux new-session -d -s "$session" -x "$w" -y "$h" -c "$repo" \
            "$bin tui --catalog '$catalog' --model '$model'"
        t1=$(wait_for '[0-9]+ items')
        ff+=($((t1 - start)))
        if [ "$while_loading" = 0 ]; then
            t2=$(wait_gone 'catalogue loading')
            cat+=($((t2 - start)))
        fi
        # One key at a time: echo = the query line shows the prefix; rank =
        # the ranking of exactly this prefix is drawn (the breakdown's
        # "query" row comes from the ranking, not from the input line).
        typed=""
        loaded_at=""
        for ((i = 0; i < ${#query}; i++)); do
            c=${query:i:1}
            typed+=$c
            k0=$(now_ms)
            tmux send-keys -t "$session" -l -- "$c"
            k1=$(wait_for "> $(ere "$typed")")
            echo_ms+=($((k1 - k0)))
            pat="query $(ere "$typed") *[│|]"
            # A prefix without neighbours: its own "not in vocabulary" list.
            last=$(printf '%s' "${typed##* }" | tr '[:upper:]' '[:lower:]')
            [ -n "$last" ] && pat="$pat|not in vocabulary: (.*, )?$(ere "$last") *[│|]"
            deadline=$((k0 + 5000))
            while :; do
                shot=$(screen)
                if [ -z "$loaded_at" ] && ! grep -q 'catalogue loading' <<<"$shot"; then
                    loaded_at=$(now_ms)
                fi
                if grep -Eq -- "$pat" <<<"$shot"; then
                    rank_ms+=($(($(now_ms) - k0)))
                    break
                fi
                if [ "$(now_ms)" -gt "$deadline" ]; then
                    unranked=$((unranked + 1))
                    break
                fi
            done
        done
        if [ "$while_loading" = 1 ]; then
            # Seen while typing (to the resolution of the rank polls), or
            # after.
            [ -n "$loaded_at" ] || loaded_at=$(wait_gone 'catalogue loading')
            cat+=($((loaded_at - start)))
        fi
        cleanup
    done
    name=$(basename "$model")
    read -r ffm ffl ffh < <(printf '%s\n' "${ff[@]}" | stats)
    read -r cm cl ch < <(printf '%s\n' "${cat[@]}" | stats)
    read -r em _ eh < <(printf '%s\n' "${echo_ms[@]}" | stats)
    read -r rm _ rh < <(printf '%s\n' "${rank_ms[@]}" | stats)
    printf '%-28s %-22s %-22s %-18s %-18s\n' "$name" "$ffm ($ffl-$ffh)" "$cm ($cl-$ch)" \
        "$em ($eh)" "$rm ($rh)"
    [ "$unranked" -eq 0 ] || echo "  ($unranked keys showed no ranking of their text within 5 s: not in the rank column)"
done
when="after the catalogue is in"
[ "$while_loading" = 0 ] || when="while the catalogue loads"
echo "keys typed $when; runs: $runs, terminal ${w}x${h}, catalogue $(basename "$catalog"), query \"$query\", $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
