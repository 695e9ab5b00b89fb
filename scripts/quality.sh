#!/usr/bin/env bash
# Retrieval quality of prodsim's default preprocessing against scikit-learn's
# TfidfVectorizer on the real product-matching benchmarks in shared/datasets
# (amazon-google, walmart-amazon).
#
# Usage: scripts/quality.sh            (from any folder; it works in the repo root)
#
# Steps: a local .venv with scikit-learn, scipy and numpy (installed once);
# cargo build --release; scripts/prepare_datasets.py writes catalogue and
# judgements per dataset; scripts/quality_ref.py scores ten sklearn TF-IDF
# configs; prodsim train + eval per dataset; scripts/quality_table.py prints
# the comparison.
#
# Environment:
#   DATASETS_DIR        benchmark folder (default: ../shared/datasets from the repo root)
#   PRODSIM_EXTRA_ARGS  extra words appended to `prodsim train` (tuning experiments)
#   QUERY_FIELDS        title (default) or all: queries from the source title alone,
#                       or from its title+brand+modelno (walmart-amazon)
#   QUALITY_OUT         keep all outputs in this folder instead of a temp dir
#
# Exit status: 0 prodsim beats the best sklearn config on hit@1 and MRR on every
# dataset, 1 it does not, 2 something failed before the comparison.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

die() {
    echo "quality.sh: $*" >&2
    [[ -n ${QUALITY_OUT:-} ]] || echo "quality.sh: (set QUALITY_OUT=DIR to keep the intermediate files)" >&2
    exit 2
}

datasets_dir=${DATASETS_DIR:-$root/../shared/datasets}
[[ -d $datasets_dir ]] || die "datasets folder $datasets_dir not found; set DATASETS_DIR"
datasets_dir=$(cd "$datasets_dir" && pwd)
read -r -a extra_args <<<"${PRODSIM_EXTRA_ARGS:-}"

# Python environment. Only the sklearn reference needs the packages; the other
# helpers use the standard library.
py=$root/.venv/bin/python
if [[ ! -x $py ]]; then
    echo "== creating .venv" >&2
    python3 -m venv "$root/.venv" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
fi
if ! "$py" -c 'import sklearn, scipy, numpy' 2>/dev/null; then
    echo "== installing scikit-learn, scipy, numpy into .venv" >&2
    "$py" -m pip install --quiet --disable-pip-version-check scikit-learn scipy numpy ||
        die "pip install failed"
fi

echo "== cargo build --release" >&2
cargo build --release || die "cargo build --release failed"
prodsim=$root/target/release/prodsim
[[ -x $prodsim ]] || die "$prodsim not found after the build"

if [[ -n ${QUALITY_OUT:-} ]]; then
    out=$QUALITY_OUT
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
else
    out=$(mktemp -d "${TMPDIR:-/tmp}/prodsim-quality.XXXXXX")
    trap 'rm -rf "$out"' EXIT
fi

echo "== preparing datasets in $out" >&2
"$py" scripts/prepare_datasets.py "$out" --datasets-dir "$datasets_dir" --query-fields "${QUERY_FIELDS:-title}"

echo "== sklearn reference" >&2
"$py" scripts/quality_ref.py "$out" --cache-dir "$root/target/quality-cache"

for dir in "$out"/*/; do
    dir=${dir%/}
    name=$(basename "$dir")
    [[ -f $dir/meta.json ]] || continue
    # Id column and fields come from prepare_datasets.py, so sklearn and prodsim
    # index the same text.
    id_column=$("$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["id_column"])' "$dir/meta.json")
    fields=$("$py" -c 'import json, sys; print(",".join(json.load(open(sys.argv[1]))["fields"]))' "$dir/meta.json")

    echo "== prodsim train: $name (--fields $fields${PRODSIM_EXTRA_ARGS:+ $PRODSIM_EXTRA_ARGS})" >&2
    start=$SECONDS
    "$prodsim" train --catalog "$dir/catalog.csv" --out "$dir/model" \
        --id-column "$id_column" --fields "$fields" ${extra_args[@]+"${extra_args[@]}"} >"$dir/train.log" 2>&1 || {
        cat "$dir/train.log" >&2
        die "prodsim train failed on $name"
    }
    echo "   trained in $((SECONDS - start))s" >&2

    echo "== prodsim eval: $name" >&2
    start=$SECONDS
    "$prodsim" eval --model "$dir/model" --judgements "$dir/judgements.csv" --k 10 --format json \
        >"$dir/prodsim.json" 2>"$dir/eval.log" || {
        cat "$dir/eval.log" >&2
        die "prodsim eval failed on $name"
    }
    echo "   evaluated in $((SECONDS - start))s" >&2
done

label="prodsim defaults"
[[ -n ${PRODSIM_EXTRA_ARGS:-} ]] && label="prodsim $PRODSIM_EXTRA_ARGS"
status=0
"$py" scripts/quality_table.py "$out" --label "$label" || status=$?
[[ -n ${QUALITY_OUT:-} ]] && echo "outputs kept in $out" >&2
exit "$status"
