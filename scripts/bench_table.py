#!/usr/bin/env python3
"""Prints the table of a scripts/bench.sh run.

Usage: bench_table.py RUN_DIR

RUN_DIR (bench-data/runs/<time>/) holds, per measured process,
`<size>_<config>_<side>_<op>_<run>.{out,err,time}` (side prodsim or
reference; op train, query or allpairs; .time is `/usr/bin/time -v -o`),
`.failed` when the process failed, `<size>_<config>_prodsim_info.json`
(`prodsim info --format json`) and meta.txt (key=value lines).

Medians are over the runs of each operation (the `runs` column says how many
per side). Standard library only.
"""

import glob
import json
import os
import re
import statistics
import sys

SIDES = ("prodsim", "reference")


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def gnu_time(path):
    """(wall seconds, peak RSS in MB) from a `/usr/bin/time -v` report."""
    text = read(path)
    wall = peak = None
    m = re.search(r"Elapsed \(wall clock\) time.*: ([\d:.]+)", text)
    if m:
        wall = 0.0
        for part in m.group(1).split(":"):
            wall = wall * 60 + float(part)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if m:
        peak = int(m.group(1)) / 1024
    return wall, peak


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return {}


def prodsim_query(text):
    """The numbers benches/query_latency.rs prints."""
    out = {}
    for kind in ("text", "item"):
        m = re.search(rf"^query_{kind}\S*\s+n=(\d+)\s+p50_ms=([\d.]+)\s+p99_ms=([\d.]+)", text, re.M)
        if m:
            out[f"{kind}_n"] = int(m.group(1))
            out[f"{kind}_p50_ms"] = float(m.group(2))
            out[f"{kind}_p99_ms"] = float(m.group(3))
        # The same queries right after the model opened, before the search
        # table was built (older harnesses print no such line).
        m = re.search(rf"^first_{kind}\S*\s+n=\d+\s+p50_ms=([\d.]+)\s+p99_ms=([\d.]+)", text, re.M)
        if m:
            out[f"{kind}_first_p50_ms"] = float(m.group(1))
            out[f"{kind}_first_p99_ms"] = float(m.group(2))
    m = re.search(r"search_table=(\w+)\s+search_table_ms=([\d.]+)", text)
    if m and m.group(1) == "yes":
        out["table_ms"] = float(m.group(2))
    m = re.search(r"model_open_ms=([\d.]+)", text)
    if m:
        out["open_ms"] = float(m.group(1))
    return out


def prodsim_batch_seconds(text):
    """Seconds `prodsim batch` reports for ranking and writing (model load excluded)."""
    m = re.search(r"neighbours of (\d+) items .* in ([\d.]+) s", text)
    return (int(m.group(1)), float(m.group(2))) if m else (None, None)


class Runs:
    """All runs of one (size, config, side, op)."""

    def __init__(self, run_dir, size, config, side, op):
        self.ok = []  # (wall_s, peak_mb, stdout text)
        self.failed = 0
        pattern = os.path.join(run_dir, f"{size}_{config}_{side}_{op}_*.time")
        for time_file in sorted(glob.glob(pattern)):
            stem = time_file[: -len(".time")]
            if os.path.exists(stem + ".failed"):
                self.failed += 1
                continue
            wall, peak = gnu_time(time_file)
            self.ok.append((wall, peak, read(stem + ".out")))

    def median(self, values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    def wall(self):
        return self.median([w for w, _, _ in self.ok])

    def peak(self):
        return self.median([p for _, p, _ in self.ok])

    def field(self, parse, key):
        return self.median([parse(out).get(key) for _, _, out in self.ok])

    def count(self):
        if not self.ok and not self.failed:
            return "-"
        return f"{len(self.ok)}" + (f"+{self.failed}failed" if self.failed else "")


def fmt_time(value, unit):
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:.3f} ms" if value < 10 else f"{value:.1f} ms"
    if value >= 600:
        return f"{value / 60:.1f} min"
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def fmt_mb(value):
    return "-" if value is None else f"{value:,.0f}"


def ratio(ref, ours):
    if ref is None or ours is None or ours <= 0:
        return "-"
    return f"{ref / ours:.2f}x" if ref / ours < 10 else f"{ref / ours:.0f}x"


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        sys.exit("usage: bench_table.py RUN_DIR  (a folder bench.sh wrote under bench-data/runs/)")
    run_dir = sys.argv[1]
    meta = {}
    for line in read(os.path.join(run_dir, "meta.txt")).splitlines():
        key, _, value = line.partition("=")
        meta[key] = value

    cells = set()
    for path in glob.glob(os.path.join(run_dir, "*_*_*_*_*.time")):
        size, config = os.path.basename(path).split("_")[:2]
        cells.add((size, config))
    order = {"100k": 0, "1m": 1, "default": 0, "words": 1}
    cells = sorted(cells, key=lambda c: (order.get(c[0], 9), order.get(c[1], 9)))

    header = ("operation", "size", "config", "prodsim", "reference", "ratio", "prodsim MB", "ref MB", "runs", "notes")
    rows = []
    footnotes = []
    sizes_rows = []
    for size, config in cells:
        items = int(meta.get(f"size_{size}_items", "0") or 0)
        ap_rows = int(meta.get(f"size_{size}_allpairs_rows", "0") or 0)
        r = {op: {s: Runs(run_dir, size, config, s, op) for s in SIDES} for op in ("train", "query", "allpairs")}

        def add(op, ours, ref, unit, peaks, runs, notes=""):
            rows.append(
                (
                    op,
                    size,
                    config,
                    fmt_time(ours, unit),
                    fmt_time(ref, unit),
                    ratio(ref, ours),
                    fmt_mb(peaks[0]),
                    fmt_mb(peaks[1]),
                    f"{runs[0].count()}/{runs[1].count()}",
                    notes,
                )
            )

        # train
        p, x = r["train"]["prodsim"], r["train"]["reference"]
        fit = x.field(last_json, "fit_transform_s")
        add(
            "train",
            p.wall(),
            x.wall(),
            "s",
            (p.peak(), x.peak()),
            (p, x),
            f"wall incl. CSV read + save; ref fit_transform {fmt_time(fit, 's')}" if fit is not None else "wall",
        )

        # model open / load, query latency
        p, x = r["query"]["prodsim"], r["query"]["reference"]
        open_ms = p.field(prodsim_query, "open_ms")
        load_ms = x.field(last_json, "load_s")
        transpose_ms = x.field(last_json, "transpose_s")
        add(
            "model open/load",
            open_ms,
            None if load_ms is None else load_ms * 1e3,
            "ms",
            (p.peak(), x.peak()),
            (p, x),
            "MB = query process (load + 4,000 queries)"
            + ("" if transpose_ms is None else f"; ref incl. transpose {transpose_ms * 1e3:.0f} ms"),
        )
        for kind in ("text", "item"):
            for pct in ("p50", "p99"):
                ours = p.field(prodsim_query, f"{kind}_{pct}_ms")
                ref = x.field(last_json, f"{kind}_{pct}_ms")
                ref_explain = x.field(last_json, f"{kind}_explain_{pct}_ms")
                n_ours = p.field(prodsim_query, f"{kind}_n")
                n_ref = x.field(last_json, f"{kind}_n")
                note = f"ref +explain {fmt_time(ref_explain, 'ms')}" if ref_explain is not None else ""
                first = p.field(prodsim_query, f"{kind}_first_{pct}_ms")
                table_ms = p.field(prodsim_query, "table_ms")
                if first is not None and table_ms is not None:
                    note += f"; ours before the search table {fmt_time(first, 'ms')}"
                    if pct == "p50":
                        note += f" (built in {fmt_time(table_ms / 1e3, 's')} on one thread)"
                if pct == "p50":
                    counts = "/".join("-" if v is None else f"{v:.0f}" for v in (n_ours, n_ref))
                    note += f"; {counts} queries"
                add(f"query {kind} {pct}", ours, ref, "ms", (None, None), (p, x), note.strip("; "))

        # all-pairs top-10
        p, x = r["allpairs"]["prodsim"], r["allpairs"]["reference"]
        partial = 0 < ap_rows < items
        ours = ref = None
        if p.ok:
            walls = []
            for wall, _, out in p.ok:
                done, secs = prodsim_batch_seconds(out)
                if partial and (done is None or secs is None):
                    walls.append(None)
                elif partial:
                    # Model load stays once; ranking + writing scale with the items.
                    walls.append(wall - secs + secs * items / done)
                else:
                    walls.append(wall)
            ours = p.median(walls)
        if x.ok:
            walls = []
            for wall, _, out in x.ok:
                j = last_json(out)
                if partial and "matmul_s" in j:
                    scaled = j["matmul_s"] + j["exclude_s"] + j["write_s"]
                    walls.append(wall - scaled + scaled * items / j["rows"])
                else:
                    walls.append(wall)
            ref = x.median(walls)
        matmul = x.field(last_json, "matmul_s")
        note = "process wall incl. load + CSV out"
        if matmul is not None:
            note += f"; ref sp_matmul_topn {fmt_time(matmul, 's')}"
        if partial:
            note += f"; EXTRAPOLATED from the first {ap_rows:,} of {items:,} items"
            note += " (peak MB of the partial run)"
        add("all-pairs top-10", ours, ref, "s", (p.peak(), x.peak()), (p, x), note)

        info = last_json(read(os.path.join(run_dir, f"{size}_{config}_prodsim_info.json")).replace("\n", " "))
        ref_train = [last_json(out) for _, _, out in r["train"]["reference"].ok]
        ref_train = ref_train[-1] if ref_train else {}
        sizes_rows.append((size, config, info, ref_train))

    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" if i in (0, 1, 2, 9) else f"{{:>{w}}}" for i, w in enumerate(widths))
    print(line.format(*header).rstrip())
    for row in rows:
        print(line.format(*row).rstrip())

    print()
    print(f"{'size':<5} {'config':<8} {'side':<9} {'model MB':>9} {'items':>9} {'B/item':>7} {'nnz/item':>8} {'B/nnz':>6} {'terms':>10}")
    for size, config, info, ref in sizes_rows:
        meta_p = info.get("meta", {})
        for side, nbytes, items, nnz, terms in (
            ("prodsim", info.get("file_bytes"), meta_p.get("items"), meta_p.get("nonzeros"), meta_p.get("terms")),
            ("reference", ref.get("bytes"), ref.get("rows"), ref.get("nnz"), ref.get("features")),
        ):
            if not nbytes or not items or not nnz:
                continue
            print(
                f"{size:<5} {config:<8} {side:<9} {nbytes / 2**20:>9.1f} {items:>9,} {nbytes / items:>7.0f} "
                f"{nnz / items:>8.1f} {nbytes / nnz:>6.1f} {terms:>10,}"
            )

    footnotes += [
        "ratio = reference / prodsim: above 1 prodsim is faster. Times are medians over `runs` processes",
        "  (prodsim/reference); MB = peak resident set size (GNU time -v) of that process, median over runs.",
        "train: prodsim train --fields title,brand vs TfidfVectorizer (bench_ref.py docstring lists what",
        "  matches prodsim and what does not: code joining, per-field tf, char_wb padding, ties).",
        "query: in-process latency, k=10. prodsim always includes the full per-token explanation;",
        "  reference = transform + sparse dot (query x term-major matrix) + top 10, '+explain' adds",
        "  (token, contribution) lists for the 10 hits. prodsim's text queries come from",
        "  prodsim::synth::sample_queries, the reference's from bench_ref.py queries: same kinds of",
        "  query (titles, brand + noun, codes, typos), not the same strings. Item queries: every",
        "  (items/2000)-th item on both sides.",
        "all-pairs: prodsim batch vs sparse_dot_topn sp_matmul_topn(top_n=11, sort=True, n_threads="
        f"{meta.get('nproc', '?')}), self excluded, both write CSV.",
        f"{meta.get('prodsim_version', 'prodsim ?')} (binary built {meta.get('prodsim_mtime', '?')}"
        + (f", query_latency built {meta['query_latency_mtime']}" if meta.get("query_latency_mtime") else "")
        + ("" if meta.get("built") == "1" else ", --no-build")
        + f") at commit {meta.get('commit', '?')}"
        + (f" + {meta['dirty_files']} uncommitted files" if meta.get("dirty_files", "0") != "0" else "")
        + f"; Python {meta.get('python', '-')}; {meta.get('nproc', '?')} cores; {meta.get('date', '?')};"
        f" page cache {meta.get('page_cache', 'kept (not recorded)')};"
        f" load average {meta.get('load_start', '?')} at start, {meta.get('load_end', '?')} at end;"
        f" total {meta.get('total_s', '?')} s.",
    ]
    print()
    for note in footnotes:
        print(note)


if __name__ == "__main__":
    main()
