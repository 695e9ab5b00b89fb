#!/usr/bin/env python3
"""scikit-learn / sparse_dot_topn reference for scripts/bench.sh.

Every step is its own subcommand so bench.sh can run each in a separate
process under `/usr/bin/time -v` and get that step's own peak memory. Each
subcommand prints one JSON object on stdout with the timings it measured
in-process (seconds unless the key ends in `_ms`).

    queries  --catalog CSV --n N --seed S --out FILE
        Writes N query texts, one a line, sampled from the catalogue.
    train    --catalog CSV --config words|default --out DIR
        Fits the vectorizer, writes DIR/matrix.npz, DIR/vectorizer.pickle,
        DIR/ids.txt.
    query    --dir DIR --queries FILE [--items N]
        Loads DIR, times text queries (one per line of FILE) and N item
        queries: p50 / p99 latency of transform + sparse dot + top 10, and of
        the same plus a per-token explanation of the 10 hits.
    allpairs --dir DIR [--rows N] [--k 10] [--threads 2] [--out FILE]
        Top-k neighbours of the first N rows (default all) against every
        row with sparse_dot_topn, itself excluded; writes the CSV prodsim
        batch writes (`item_id,rank,neighbour_id,score`).

What the reference is and is not equivalent to (prodsim `--fields
title,brand`, see README "Configuration" and "Weighting"):

  same     text = title and brand; lower-case; accents removed (sklearn
           strip_accents="unicode" = NFKD + drop combining marks; prodsim uses
           NFKC then folds accents); tokens = runs of letters/digits with a
           '.' kept between two digits (TOKEN_PATTERN); word 1-2-grams;
           sublinear tf 1 + ln(tf); smooth idf ln((1+N)/(1+df)) + 1; min_df 1;
           cosine on L2-normalised float32 vectors; `default` adds char_wb
           2-4-grams whose tf-idf is multiplied by 0.7 before the single L2
           normalisation of the whole vector (FeatureUnion with
           transformer_weights, each block norm=None, then Normalizer), which
           is prodsim's formula.
  differs  - prodsim joins product codes (`KX-TS3282B`, `kx ts3282b` ->
             `kxts3282b`); sklearn keeps the pieces `kx`, `ts3282b`.
           - prodsim tokenises each field on its own: tf = sum over fields of
             g(count in field), and no word bigram spans title|brand; here the
             fields are joined with a space, so a brand repeated in the title
             gets 1 + ln 2 instead of 2, and one extra bigram spans the join.
           - sklearn char_wb pads whitespace-separated words of the raw text
             (punctuation included); prodsim builds char n-grams from its
             tokens (after code joining).
           - Ties at the 10th place: prodsim breaks ties by catalogue order;
             argpartition picks an arbitrary tied item at the boundary (the
             10 returned are then sorted by score, then row).
           - Explanation: prodsim returns token, kind, fields, both weights
             and the contribution for every shared token; the reference
             returns (token, contribution) pairs sorted by contribution.

The query sets of prodsim's bench (prodsim::synth::sample_queries) and of
`queries` here are drawn the same way in kind (a quarter full titles, the
rest two to four words: brand + noun, codes, features; mostly lower-case,
some typos) but are not the same strings.
"""

import argparse
import csv
import json
import os
import pickle
import random
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import Normalizer

# Runs of letters and digits (no underscore); a '.' between two digits stays
# inside the token, as in prodsim's tokenizer (src/text/tokenize.rs).
TOKEN_PATTERN = r"(?u)[^\W_]+(?:(?<=[0-9])\.(?=[0-9])[^\W_]+)*"
FIELDS = ("title", "brand")
CHAR_WEIGHT = 0.7
K = 10


def fail(message):
    print(f"bench_ref.py: {message}", file=sys.stderr)
    sys.exit(2)


def read_catalog(path):
    """(ids, texts): id column and the FIELDS joined by a space, empty ones skipped."""
    ids, texts = [], []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = [c for c in ("id", *FIELDS) if c not in (reader.fieldnames or [])]
            if missing:
                fail(f"{path}: no column {', '.join(missing)} (header: {reader.fieldnames})")
            for row in reader:
                ids.append(row["id"])
                texts.append(" ".join(row[k] for k in FIELDS if row[k] and row[k].strip()))
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    return ids, texts


def word_vectorizer(norm):
    return TfidfVectorizer(
        analyzer="word",
        token_pattern=TOKEN_PATTERN,
        ngram_range=(1, 2),
        lowercase=True,
        strip_accents="unicode",
        sublinear_tf=True,
        smooth_idf=True,
        norm=norm,
        dtype=np.float32,
    )


def make_pipeline(config):
    if config == "words":
        return Pipeline([("tfidf", word_vectorizer("l2"))])
    if config == "default":
        char = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 4),
            lowercase=True,
            strip_accents="unicode",
            sublinear_tf=True,
            smooth_idf=True,
            norm=None,
            dtype=np.float32,
        )
        union = FeatureUnion(
            [("word", word_vectorizer(None)), ("char", char)],
            transformer_weights={"word": 1.0, "char": CHAR_WEIGHT},
        )
        return Pipeline([("union", union), ("l2", Normalizer("l2"))])
    fail(f"--config {config!r}: expected words or default")


def vocabularies(pipeline):
    """The fitted TfidfVectorizers in column order, with their names."""
    first = pipeline.steps[0][1]
    if isinstance(first, FeatureUnion):
        return [(name, t) for name, t in first.transformer_list]
    return [("word", first)]


def inverse_vocabulary(pipeline):
    """Column index -> token string (what an explanation has to print)."""
    parts = []
    for _, vec in vocabularies(pipeline):
        names = np.empty(len(vec.vocabulary_), dtype=object)
        for token, col in vec.vocabulary_.items():
            names[col] = token
        parts.append(names)
    return np.concatenate(parts)


def dir_bytes(folder):
    return sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder))


# ---------------------------------------------------------------------------
# queries


def typo(text, rng):
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long_words:
        return text
    i = rng.choice(long_words)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    if rng.random() < 0.5:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    else:
        w = w[:j] + w[j + 1 :]
    words[i] = w
    return " ".join(words)


def sample_query(title, brand, rng):
    words = [w.strip(",()") for w in title.split() if w.strip(",()")]
    if not words:
        return title
    rest = [w for w in words if w.lower() != brand.lower()] or words
    coded = [w for w in rest if any(c.isdigit() for c in w) and any(c.isalpha() for c in w)]
    roll = rng.randrange(100)
    if roll < 25:
        # Another shop's listing: the title with one word dropped and the
        # brand moved to the end.
        out = list(rest)
        if len(out) > 3:
            del out[rng.randrange(len(out))]
        if brand:
            out.append(brand)
    elif roll < 45:
        out = [brand, rest[-1]] if brand else rest[-2:]
    elif roll < 60 and coded:
        out = [rng.choice(coded)]
    elif roll < 75 and coded:
        out = [brand, rng.choice(coded)] if brand else [rng.choice(coded)]
    else:
        n = min(len(rest), rng.randint(2, 4))
        start = rng.randrange(len(rest) - n + 1)
        out = rest[start : start + n]
    text = " ".join(w for w in out if w)
    if rng.random() < 0.85:
        text = text.lower()
    if rng.random() < 0.12:
        text = typo(text, rng)
    return text


def cmd_queries(args):
    rng = random.Random(args.seed)
    rows = []
    with open(args.catalog, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            rows.append((row["title"], row.get("brand", "")))
    if not rows:
        fail(f"{args.catalog}: no rows")
    queries = [sample_query(*rows[rng.randrange(len(rows))], rng) for _ in range(args.n)]
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for q in queries:
            f.write(q.replace("\n", " ") + "\n")
    os.replace(tmp, args.out)
    print(json.dumps({"queries": len(queries), "seed": args.seed}))


# ---------------------------------------------------------------------------
# train


def cmd_train(args):
    t0 = time.perf_counter()
    ids, texts = read_catalog(args.catalog)
    t1 = time.perf_counter()
    pipeline = make_pipeline(args.config)
    X = pipeline.fit_transform(texts).tocsr()
    X.sort_indices()
    t2 = time.perf_counter()
    os.makedirs(args.out, exist_ok=True)
    sp.save_npz(os.path.join(args.out, "matrix.npz"), X, compressed=False)
    with open(os.path.join(args.out, "vectorizer.pickle"), "wb") as f:
        pickle.dump(pipeline, f, protocol=pickle.HIGHEST_PROTOCOL)
    with open(os.path.join(args.out, "ids.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(ids) + "\n")
    t3 = time.perf_counter()
    print(
        json.dumps(
            {
                "config": args.config,
                "rows": X.shape[0],
                "features": X.shape[1],
                "nnz": int(X.nnz),
                "dtype": str(X.dtype),
                "read_s": t1 - t0,
                "fit_transform_s": t2 - t1,
                "save_s": t3 - t2,
                "bytes": dir_bytes(args.out),
            }
        )
    )


# ---------------------------------------------------------------------------
# query


def load(folder):
    """(pipeline, X row-major, XT term-major, ids, seconds per part)."""
    t0 = time.perf_counter()
    X = sp.load_npz(os.path.join(folder, "matrix.npz")).tocsr()
    with open(os.path.join(folder, "vectorizer.pickle"), "rb") as f:
        pipeline = pickle.load(f)
    t1 = time.perf_counter()
    # The term-major copy is the inverted index: q @ XT only touches the
    # columns (postings) of the query's terms instead of scanning every row.
    XT = X.T.tocsr()
    t2 = time.perf_counter()
    return pipeline, X, XT, {"load_files_s": t1 - t0, "transpose_s": t2 - t1, "load_s": t2 - t0}


def top_k(scores, k, exclude=None):
    """Rows and scores of the k best entries of a 1 x N sparse row, best first, ties by row."""
    rows, vals = scores.indices, scores.data
    if exclude is not None:
        keep = rows != exclude
        rows, vals = rows[keep], vals[keep]
    if len(vals) > k:
        part = np.argpartition(-vals, k - 1)[:k]
        rows, vals = rows[part], vals[part]
    order = np.lexsort((rows, -vals))
    return rows[order], vals[order]


def explain(q, X, rows, names):
    """Per hit: (token, contribution) of every shared token, largest first."""
    out = []
    for r in rows:
        c = q.multiply(X[r]).tocsr()
        order = np.argsort(-c.data)
        out.append([(names[c.indices[i]], float(c.data[i])) for i in order])
    return out


def percentile(sorted_ms, p):
    # Same rule as benches/query_latency.rs: index round((n - 1) p).
    return sorted_ms[int(round((len(sorted_ms) - 1) * p))] if sorted_ms else float("nan")


def cmd_query(args):
    pipeline, X, XT, times = load(args.dir)
    t = time.perf_counter()
    names = inverse_vocabulary(pipeline)
    times["inverse_vocabulary_s"] = time.perf_counter() - t
    with open(args.queries, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f if line.strip()]
    if not texts:
        fail(f"{args.queries}: no queries")
    n = X.shape[0]
    step = max(n // max(args.items, 1), 1)
    items = list(range(0, n, step))[: args.items]

    def text_query(text):
        q = pipeline.transform([text])
        return q, top_k(q @ XT, K)

    def item_query(i):
        q = X[i]
        return q, top_k(q @ XT, K, exclude=i)

    # Warm up (as the Rust bench does with its first 50 queries).
    for text in texts[:50]:
        text_query(text)

    result = dict(times)
    for kind, run, inputs in (("text", text_query, texts), ("item", item_query, items)):
        plain, explained = [], []
        for x in inputs:
            t0 = time.perf_counter()
            q, (rows, _) = run(x)
            t1 = time.perf_counter()
            explain(q, X, rows, names)
            t2 = time.perf_counter()
            plain.append((t1 - t0) * 1e3)
            explained.append((t2 - t0) * 1e3)
        plain.sort()
        explained.sort()
        result[f"{kind}_n"] = len(inputs)
        result[f"{kind}_p50_ms"] = percentile(plain, 0.5)
        result[f"{kind}_p99_ms"] = percentile(plain, 0.99)
        result[f"{kind}_explain_p50_ms"] = percentile(explained, 0.5)
        result[f"{kind}_explain_p99_ms"] = percentile(explained, 0.99)
    print(json.dumps(result))


# ---------------------------------------------------------------------------
# allpairs


def cmd_allpairs(args):
    import sparse_dot_topn
    from sparse_dot_topn import sp_matmul_topn

    t0 = time.perf_counter()
    X = sp.load_npz(os.path.join(args.dir, "matrix.npz")).tocsr()
    with open(os.path.join(args.dir, "ids.txt"), encoding="utf-8") as f:
        ids = f.read().split("\n")[: X.shape[0]]
    t1 = time.perf_counter()
    n = X.shape[0]
    rows = n if args.rows is None else min(args.rows, n)
    A = X[:rows]
    XT = X.T.tocsr()
    t2 = time.perf_counter()
    # k + 1 so that k remain after dropping the item itself.
    C = sp_matmul_topn(A, XT, top_n=args.k + 1, sort=True, n_threads=args.threads)
    t3 = time.perf_counter()
    C = C.tocsr()
    lengths = np.diff(C.indptr)
    row_of = np.repeat(np.arange(rows), lengths)
    keep = C.indices != row_of
    kept_rows, cols, vals = row_of[keep], C.indices[keep], C.data[keep]
    # Rank within the row after the self-match is gone; keep the first k.
    starts = np.searchsorted(kept_rows, np.arange(rows))
    rank = np.arange(len(kept_rows)) - starts[kept_rows] + 1
    within = rank <= args.k
    kept_rows, cols, vals, rank = kept_rows[within], cols[within], vals[within], rank[within]
    t4 = time.perf_counter()
    out = args.out or os.path.join(args.dir, "allpairs.csv")
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write("item_id,rank,neighbour_id,score\n")
        f.writelines(
            f"{ids[r]},{k},{ids[c]},{v:.6f}\n"
            for r, k, c, v in zip(kept_rows.tolist(), rank.tolist(), cols.tolist(), vals.tolist())
        )
    os.replace(tmp, out)
    t5 = time.perf_counter()
    print(
        json.dumps(
            {
                "sparse_dot_topn": sparse_dot_topn.__version__,
                "rows": rows,
                "items": n,
                "threads": args.threads,
                "neighbours": int(len(vals)),
                "load_s": t1 - t0,
                "transpose_s": t2 - t1,
                "matmul_s": t3 - t2,
                "exclude_s": t4 - t3,
                "write_s": t5 - t4,
                # Per-row work, the part that scales with the rows covered.
                "per_row_s": t5 - t1,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("queries")
    p.add_argument("--catalog", required=True)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--seed", type=int, default=24301)
    p.add_argument("--out", required=True)
    p = sub.add_parser("train")
    p.add_argument("--catalog", required=True)
    p.add_argument("--config", required=True, choices=["words", "default"])
    p.add_argument("--out", required=True)
    p = sub.add_parser("query")
    p.add_argument("--dir", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--items", type=int, default=2000, help="item queries (every n/N-th row)")
    p = sub.add_parser("allpairs")
    p.add_argument("--dir", required=True)
    p.add_argument("--rows", type=int, help="only the first N rows (default all)")
    p.add_argument("--k", type=int, default=K)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--out")
    args = parser.parse_args()
    {"queries": cmd_queries, "train": cmd_train, "query": cmd_query, "allpairs": cmd_allpairs}[args.command](args)


if __name__ == "__main__":
    main()
