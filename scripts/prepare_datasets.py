#!/usr/bin/env python3
"""Turn the product-matching benchmarks in shared/datasets into prodsim inputs.

Usage: prepare_datasets.py OUTDIR [--datasets-dir DIR] [--query-fields title|all]

For every dataset this writes

    OUTDIR/<name>/catalog.csv      the catalogue table, copied byte for byte
    OUTDIR/<name>/judgements.csv   query_kind,query,item_id,grade
    OUTDIR/<name>/meta.json        id column, text fields, counts

One judgement row is written per gold pair: the query is the title of the
source record (an Amazon record for amazon-google, a Walmart record for
walmart-amazon) and item_id is the gold partner in the catalogue. prodsim groups
judgements by (query_kind, query), so two source records with the same title
become one query whose relevant set is the union of their partners;
quality_ref.py groups the same way. A (query, item_id) pair that would appear
twice after that merge is written once.

--query-fields all (or QUERY_FIELDS=all) builds each query from the source
record's counterparts of the catalogue fields instead of its title alone; for
walmart-amazon that is title, brand and modelno, for amazon-google still just
the title. The default is the title.

Standard library only, so it runs before any virtualenv exists.
"""

import argparse
import csv
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATASETS_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "datasets"))

# name -> how to build it. "fields" is the order in which catalogue text fields
# are joined (for sklearn) and passed to `prodsim train --fields`.
DATASETS = {
    "amazon-google": {
        "catalog": "GoogleProducts.csv",
        "id_column": "id",
        "fields": ["name"],
        "sources": "Amazon.csv",
        "source_id": "id",
        "source_text": ["title"],
        "gold": "Amzon_GoogleProducts_perfectMapping.csv",
        "gold_source": "idAmazon",
        "gold_item": "idGoogleBase",
    },
    "walmart-amazon": {
        "catalog": "amazon.csv",
        "id_column": "id",
        "fields": ["title", "brand", "modelno"],
        "sources": "walmart.csv",
        "source_id": "id",
        "source_text": ["title", "brand", "modelno"],
        "gold": "gt.csv",
        "gold_source": "D1",
        "gold_item": "D2",
    },
}


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def require_columns(path, rows, columns):
    if not rows:
        sys.exit(f"error: {path} has no data rows")
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        sys.exit(f"error: {path} lacks column(s) {', '.join(missing)}; has {', '.join(rows[0])}")


def prepare(name, spec, src_dir, out_dir, query_fields):
    catalog_path = os.path.join(src_dir, spec["catalog"])
    sources_path = os.path.join(src_dir, spec["sources"])
    gold_path = os.path.join(src_dir, spec["gold"])

    catalog = read_rows(catalog_path)
    require_columns(catalog_path, catalog, [spec["id_column"], *spec["fields"]])
    catalog_ids = {row[spec["id_column"]] for row in catalog}
    if len(catalog_ids) != len(catalog):
        sys.exit(f"error: {catalog_path}: column {spec['id_column']} has repeated ids")

    sources = read_rows(sources_path)
    fields = spec["source_text"] if query_fields == "all" else spec["source_text"][:1]
    require_columns(sources_path, sources, [spec["source_id"], *fields])
    source_order = {row[spec["source_id"]]: i for i, row in enumerate(sources)}
    source_text = {
        row[spec["source_id"]]: " ".join(row[k] for k in fields if row[k].strip()) for row in sources
    }

    gold = read_rows(gold_path)
    require_columns(gold_path, gold, [spec["gold_source"], spec["gold_item"]])
    partners = {}  # source id -> gold catalogue ids, in gold-file order
    for line, row in enumerate(gold, start=2):
        src, item = row[spec["gold_source"]], row[spec["gold_item"]]
        if src not in source_text:
            sys.exit(f"error: {gold_path} line {line}: unknown source id {src!r}")
        if item not in catalog_ids:
            sys.exit(f"error: {gold_path} line {line}: unknown catalogue id {item!r}")
        partners.setdefault(src, []).append(item)

    rows = []
    seen = set()
    duplicates = 0
    empty = 0
    for src in sorted(partners, key=source_order.__getitem__):
        text = source_text[src]
        if not text.strip():
            empty += 1
            continue
        for item in partners[src]:
            if (text, item) in seen:
                duplicates += 1
                continue
            seen.add((text, item))
            rows.append(("text", text, item, 1))

    os.makedirs(out_dir, exist_ok=True)
    shutil.copyfile(catalog_path, os.path.join(out_dir, "catalog.csv"))
    with open(os.path.join(out_dir, "judgements.csv"), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["query_kind", "query", "item_id", "grade"])
        writer.writerows(rows)

    queries = {text for _, text, _, _ in rows}
    loose = {" ".join(t.split()).lower() for t in queries}
    meta = {
        "dataset": name,
        "id_column": spec["id_column"],
        "fields": spec["fields"],
        "query_fields": fields,
        "catalog_items": len(catalog),
        "source_records": len(partners),
        "source_records_empty_text": empty,
        "queries": len(queries),
        "judgements": len(rows),
        "duplicate_pairs_merged": duplicates,
        # queries that would merge further if a consumer collapsed whitespace
        # and case before grouping; 0 means grouping is insensitive to that.
        "queries_whitespace_case_folded": len(loose),
    }
    with open(os.path.join(out_dir, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    return meta


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir")
    parser.add_argument("--datasets-dir", default=os.environ.get("DATASETS_DIR") or DEFAULT_DATASETS_DIR)
    parser.add_argument(
        "--query-fields", choices=["title", "all"], default=os.environ.get("QUERY_FIELDS") or "title"
    )
    args = parser.parse_args()

    for name, spec in DATASETS.items():
        src_dir = os.path.join(args.datasets_dir, name)
        if not os.path.isdir(src_dir):
            sys.exit(f"error: dataset folder {src_dir} not found (set DATASETS_DIR)")
        meta = prepare(name, spec, src_dir, os.path.join(args.outdir, name), args.query_fields)
        print(
            f"{name}: {meta['catalog_items']} catalogue items, {meta['source_records']} source records"
            f" -> {meta['queries']} distinct text queries, {meta['judgements']} judgements"
            f" ({meta['duplicate_pairs_merged']} repeated pair(s) merged), query = {'+'.join(meta['query_fields'])}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
