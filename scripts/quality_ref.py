#!/usr/bin/env python3
"""scikit-learn TF-IDF reference numbers for the prodsim quality check.

Usage: quality_ref.py OUTDIR [--cache-dir DIR]

OUTDIR is what prepare_datasets.py wrote. For each dataset it fits
TfidfVectorizer on the catalogue (the fields in meta.json joined by a space,
empty fields skipped), ranks every catalogue item for each distinct
(query_kind, query) of judgements.csv by cosine similarity, and scores

    hit@1, hit@10   a relevant item at rank 1 / within the top 10
    mrr             1 / rank of the first relevant item if within the top 100,
                    else 0

averaged over the distinct queries. Equal scores keep catalogue row order.
Prints one table per dataset and writes OUTDIR/sklearn.json:

    {dataset: {config: {"hit@1", "hit@10", "mrr"}},
     "best": {dataset: {"mrr": {"config", ...metrics}, "hit@1": {...}}},
     "meta": {dataset: {"queries", "catalog_items", "fields", "query_fields",
                        "seconds"}}}

With --cache-dir, results for byte-identical inputs (same files, same script,
same library versions) are reused instead of recomputed, so repeated runs of
quality.sh while tuning prodsim skip the ~30 s of vectorising.
"""

import argparse
import csv
import json
import os
import sys
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

MRR_DEPTH = 100

CONFIGS = []
for _analyzer, _ngrams in [
    ("word", (1, 1)),
    ("word", (1, 2)),
    ("char_wb", (2, 4)),
    ("char_wb", (3, 5)),
    ("char_wb", (2, 5)),
]:
    for _sublinear in (False, True):
        _name = f"{_analyzer}({_ngrams[0]},{_ngrams[1]})" + ("+sublinear" if _sublinear else "")
        CONFIGS.append(
            (_name, dict(analyzer=_analyzer, ngram_range=_ngrams, sublinear_tf=_sublinear, lowercase=True, min_df=1))
        )


def load_dataset(folder):
    with open(os.path.join(folder, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    with open(os.path.join(folder, "catalog.csv"), newline="", encoding="utf-8") as f:
        catalog = list(csv.DictReader(f))
    ids = [row[meta["id_column"]] for row in catalog]
    texts = [" ".join(row[k] for k in meta["fields"] if row[k].strip()) for row in catalog]
    index = {item_id: i for i, item_id in enumerate(ids)}

    # Group exactly as prodsim does: by (query_kind, query) text.
    relevant = {}
    with open(os.path.join(folder, "judgements.csv"), newline="", encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            if float(row["grade"]) <= 0:
                continue
            if row["query_kind"] != "text":
                sys.exit(f"error: {folder}/judgements.csv line {line}: only text queries are supported")
            if row["item_id"] not in index:
                sys.exit(f"error: {folder}/judgements.csv line {line}: unknown item {row['item_id']!r}")
            relevant.setdefault(row["query"], set()).add(index[row["item_id"]])
    queries = list(relevant)
    return meta, texts, queries, [sorted(relevant[q]) for q in queries]


def first_relevant_ranks(scores, relevant):
    """1-based rank of the best-placed relevant item per query.

    Rank of item r = (# items scoring higher) + (# items scoring equally that
    come earlier in the catalogue) + 1, i.e. its position in a stable sort by
    descending score, without sorting the whole row.
    """
    ranks = np.empty(len(relevant), dtype=np.int64)
    for q, rel in enumerate(relevant):
        row = scores[q]
        best = None
        for r in rel:
            s = row[r]
            rank = int(np.count_nonzero(row > s)) + int(np.count_nonzero(row[:r] == s)) + 1
            best = rank if best is None else min(best, rank)
        ranks[q] = best
    return ranks


def evaluate(texts, queries, relevant, params):
    vectorizer = TfidfVectorizer(**params)
    items = vectorizer.fit_transform(texts)
    query_vectors = vectorizer.transform(queries)
    # Rows are L2-normalised, so the dot product is the cosine similarity.
    scores = (query_vectors @ items.T).toarray()
    ranks = first_relevant_ranks(scores, relevant)
    reciprocal = np.where(ranks <= MRR_DEPTH, 1.0 / ranks, 0.0)
    return {
        "hit@1": float(np.mean(ranks <= 1)),
        "hit@10": float(np.mean(ranks <= 10)),
        "mrr": float(np.mean(reciprocal)),
    }


def compute(outdir, datasets):
    results = {"best": {}, "meta": {}}
    for name in datasets:
        started = time.perf_counter()
        meta, texts, queries, relevant = load_dataset(os.path.join(outdir, name))
        table = {config: evaluate(texts, queries, relevant, params) for config, params in CONFIGS}
        best = {}
        for metric in ("mrr", "hit@1"):
            # max() keeps the first config on a tie, i.e. the simpler one.
            config = max(table, key=lambda c: table[c][metric])
            best[metric] = {"config": config, **table[config]}
        results[name] = table
        results["best"][name] = best
        results["meta"][name] = {
            "queries": len(queries),
            "catalog_items": len(texts),
            "fields": meta["fields"],
            "query_fields": meta.get("query_fields", ["title"]),
            "seconds": round(time.perf_counter() - started, 2),
        }
    return results


def print_tables(results, datasets, note=""):
    for name in datasets:
        table, best, meta = results[name], results["best"][name], results["meta"][name]
        print(
            f"\n{name}: {meta['queries']} distinct queries, {meta['catalog_items']} catalogue items, "
            f"catalogue {'+'.join(meta['fields'])}, query {'+'.join(meta['query_fields'])}, "
            f"{meta['seconds']:.1f}s{note}"
        )
        print(f"  {'sklearn TfidfVectorizer':<24} {'hit@1':>7} {'hit@10':>7} {'MRR':>7}")
        for config, m in table.items():
            marks = ["MRR" if k == "mrr" else k for k in ("hit@1", "mrr") if best[k]["config"] == config]
            flag = "  <- best " + " & ".join(marks) if marks else ""
            print(f"  {config:<24} {m['hit@1']:>7.4f} {m['hit@10']:>7.4f} {m['mrr']:>7.4f}{flag}")


def cache_key(outdir, datasets):
    """Hash of everything the numbers depend on: inputs, this script, versions."""
    import hashlib

    import scipy
    import sklearn

    h = hashlib.sha256()
    h.update(f"{sklearn.__version__} {np.__version__} {scipy.__version__}\n".encode())
    with open(os.path.abspath(__file__), "rb") as f:
        h.update(f.read())
    for name in datasets:
        h.update(name.encode() + b"\0")
        for part in ("meta.json", "catalog.csv", "judgements.csv"):
            with open(os.path.join(outdir, name, part), "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()[:20]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", help="folder written by prepare_datasets.py")
    parser.add_argument(
        "--cache-dir",
        help="reuse results computed earlier for byte-identical inputs (kept as sklearn-<hash>.json)",
    )
    args = parser.parse_args()
    outdir = args.outdir
    datasets = sorted(
        d for d in os.listdir(outdir) if os.path.isfile(os.path.join(outdir, d, "judgements.csv"))
    )
    if not datasets:
        sys.exit(f"error: no <dataset>/judgements.csv under {outdir}; run prepare_datasets.py first")

    cached = None
    if args.cache_dir:
        cached = os.path.join(args.cache_dir, f"sklearn-{cache_key(outdir, datasets)}.json")
    if cached and os.path.isfile(cached):
        with open(cached, encoding="utf-8") as f:
            results = json.load(f)
        print_tables(results, datasets, note=" (cached)")
    else:
        results = compute(outdir, datasets)
        print_tables(results, datasets)
        if cached:
            os.makedirs(args.cache_dir, exist_ok=True)
            with open(cached + ".tmp", "w", encoding="utf-8") as f:
                json.dump(results, f, indent=2)
            os.replace(cached + ".tmp", cached)

    with open(os.path.join(outdir, "sklearn.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
