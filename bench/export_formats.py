"""SIEM export throughput: `agentaudit export` (OCSF and ECS NDJSON) vs DuckDB's own
`COPY ... (FORMAT JSON)` of the same event rows.

    python -m bench.export_formats [--rows N]

One store is prepared (rows from bench.store_append's generator); each side then runs in its
own process and writes every event of that store to an NDJSON file. Ours maps each row to an
OCSF 1.8.0 record (and, for ECS, from OCSF to ECS) in Python; the baseline dumps raw columns.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import peak_rss_mb, run_side
from bench.results import write_section
from bench.store_append import BATCH, generate


def prepare(rows: int, db: Path) -> None:
    from agentaudit.store import Store

    events = list(generate(rows))
    with Store.open(db) as store:
        for i in range(0, rows, BATCH):
            store.append_events(events[i : i + BATCH])


def side_ours(db: Path, fmt: str, out: Path) -> dict:
    from agentaudit.export.stream import export_to
    from agentaudit.store import Store

    started = time.perf_counter()
    with Store.open(db) as store:
        report = export_to(store, fmt, out, cursor_name=None, what="events")
    return {
        "seconds": time.perf_counter() - started,
        "rows": report.written,
        "peak_rss_mb": peak_rss_mb(),
    }


def side_duckdb(db: Path, out: Path) -> dict:
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(str(db), read_only=True)
    con.execute(
        f"COPY (SELECT * FROM events ORDER BY ingested_at, event_id) TO '{out}' (FORMAT JSON)"
    )
    con.close()
    with out.open() as fh:
        rows = sum(1 for _ in fh)
    return {"seconds": time.perf_counter() - started, "rows": rows, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--side", choices=["prepare", "ocsf", "ecs", "duckdb"])
    parser.add_argument("--db")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.side == "prepare":
        prepare(args.rows, Path(args.db))
        print(json.dumps({"rows": args.rows}))
        return
    if args.side in ("ocsf", "ecs"):
        print(json.dumps(side_ours(Path(args.db), args.side, Path(args.out))))
        return
    if args.side == "duckdb":
        print(json.dumps(side_duckdb(Path(args.db), Path(args.out))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "store.duckdb"
        # prepared in its own process too: Linux keeps the RSS high-water mark across exec,
        # so a large parent would inflate every side's peak RSS
        run_side(
            "bench.export_formats", "--side", "prepare", "--rows", str(args.rows), "--db", str(db)
        )
        results = {
            side: run_side(
                "bench.export_formats",
                "--side",
                side,
                "--db",
                str(db),
                "--out",
                f"{tmp}/{side}.ndjson",
            )
            for side in ("ocsf", "ecs", "duckdb")
        }
        sizes = {side: Path(f"{tmp}/{side}.ndjson").stat().st_size / 1e6 for side in results}
    assert {r["rows"] for r in results.values()} == {args.rows}, results
    rate = {side: args.rows / r["seconds"] for side, r in results.items()}
    rows_md = "\n".join(
        f"| {label} | {results[side]['seconds']:.2f} | {rate[side]:,.0f} | {sizes[side]:.0f} | "
        f"{results[side]['peak_rss_mb']:.0f} |"
        for side, label in (
            ("ocsf", "agentaudit `export --format ocsf`"),
            ("ecs", "agentaudit `export --format ecs`"),
            ("duckdb", "DuckDB `COPY ... (FORMAT JSON)`"),
        )
    )
    body = f"""## SIEM export (issue 7)

`python -m bench.export_formats --rows {args.rows}`: {args.rows:,} shell-command events
(Process Activity) from one DuckDB store to an NDJSON file, each side in its own process.
Ours builds an OCSF 1.8.0 record per row (ECS: then maps it to ECS) in Python, paged 2,000 rows
at a time by the export cursor's order; the baseline dumps the raw columns with DuckDB's COPY.

| side | seconds | rows/s | output MB | peak RSS MB |
|---|---:|---:|---:|---:|
{rows_md}

**Throughput ratio (ours / COPY): OCSF {rate["ocsf"] / rate["duckdb"]:.2f}, ECS {rate["ecs"] / rate["duckdb"]:.2f}.**
"""
    write_section("export_formats", body)
    sys.stdout.write(body)


if __name__ == "__main__":
    main()
