#!/usr/bin/env python3
"""Final table of scripts/quality.sh: prodsim against the best sklearn config.

Usage: quality_table.py OUTDIR [--label TEXT]

Reads OUTDIR/sklearn.json (quality_ref.py) and OUTDIR/<dataset>/prodsim.json
(`prodsim eval --format json`), prints

    dataset | system | queries | hit@1 | hit@10 | MRR

and one verdict line per dataset. prodsim "beats" sklearn on a dataset when its
hit@1 is above the best sklearn hit@1 and its MRR is above the best sklearn MRR
(the two bests may come from different configs). Writes OUTDIR/summary.json.

Exit status: 0 prodsim beats sklearn on every dataset, 1 it does not on at
least one, 2 an input is missing or malformed. Standard library only.
"""

import argparse
import json
import os
import sys

METRICS = ("hit@1", "hit@10", "mrr")


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        fail(f"{path} not found ({what})")
    except json.JSONDecodeError as e:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(300)
        fail(f"{path} is not JSON ({what}): {e}; it starts with {head!r}")


def prodsim_metrics(path):
    report = load_json(path, "output of prodsim eval --format json")
    metrics = report.get("metrics") if isinstance(report, dict) else None
    if not isinstance(metrics, dict):
        fail(f"{path}: expected an object with a \"metrics\" object, got {str(report)[:200]!r}")
    missing = [m for m in METRICS if not isinstance(metrics.get(m), (int, float))]
    if missing:
        fail(f"{path}: metrics lack {', '.join(missing)}; present: {', '.join(metrics) or 'none'}")
    return {m: float(metrics[m]) for m in METRICS}, report.get("queries")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir")
    parser.add_argument("--label", default="prodsim defaults", help="name of the prodsim row")
    args = parser.parse_args()

    sklearn = load_json(os.path.join(args.outdir, "sklearn.json"), "output of quality_ref.py")
    datasets = sorted(sklearn.get("best", {}))
    if not datasets:
        fail(f"{args.outdir}/sklearn.json has no \"best\" entries")

    rows, verdicts, summary, warnings = [], [], {}, []
    all_beat = True
    for name in datasets:
        ours, prodsim_queries = prodsim_metrics(os.path.join(args.outdir, name, "prodsim.json"))
        best = sklearn["best"][name]
        queries = sklearn.get("meta", {}).get(name, {}).get("queries")
        if prodsim_queries is not None and queries is not None and prodsim_queries != queries:
            warnings.append(
                f"warning: {name}: prodsim evaluated {prodsim_queries} queries, sklearn {queries}; "
                "the two do not group judgements the same way, so the numbers are not comparable"
            )

        rows.append((name, args.label, prodsim_queries, ours))
        configs = [best["mrr"]["config"]]
        if best["hit@1"]["config"] not in configs:
            configs.append(best["hit@1"]["config"])
        for config in configs:
            rows.append((name, f"sklearn {config}", queries, sklearn[name][config]))

        ref = {"hit@1": best["hit@1"]["hit@1"], "mrr": best["mrr"]["mrr"]}
        beats = {m: ours[m] > ref[m] for m in ref}
        all_beat = all_beat and all(beats.values())
        verdicts.append(
            f"{name}: prodsim {'BEATS' if all(beats.values()) else 'does NOT beat'} the best sklearn: "
            f"hit@1 {ours['hit@1']:.4f} vs {ref['hit@1']:.4f} ({best['hit@1']['config']}) "
            f"{'ok' if beats['hit@1'] else 'NO'}, "
            f"MRR {ours['mrr']:.4f} vs {ref['mrr']:.4f} ({best['mrr']['config']}) "
            f"{'ok' if beats['mrr'] else 'NO'}"
        )
        summary[name] = {
            "prodsim": ours,
            "prodsim_queries": prodsim_queries,
            "sklearn_best": {m: {"config": best[m]["config"], "value": ref[m]} for m in ref},
            "beats": all(beats.values()),
        }

    widths = [max(len(str(r[i])) for r in rows) for i in range(3)]
    widths = [max(w, len(h)) for w, h in zip(widths, ("dataset", "system", "queries"))]
    header = f"{'dataset':<{widths[0]}} | {'system':<{widths[1]}} | {'queries':>{widths[2]}} |  hit@1 | hit@10 |    MRR"
    print()
    print(header)
    print("-" * len(header))
    for name, system, queries, m in rows:
        q = "?" if queries is None else queries
        print(
            f"{name:<{widths[0]}} | {system:<{widths[1]}} | {q:>{widths[2]}} | "
            f"{m['hit@1']:.4f} | {m['hit@10']:.4f} | {m['mrr']:.4f}"
        )
    print()
    for line in warnings:
        print(line)
    for line in verdicts:
        print(line)

    with open(os.path.join(args.outdir, "summary.json"), "w", encoding="utf-8") as f:
        json.dump({"label": args.label, "datasets": summary, "all_beat": all_beat}, f, indent=2)
        f.write("\n")
    sys.exit(0 if all_beat else 1)


if __name__ == "__main__":
    main()
