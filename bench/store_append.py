"""Canonical events appended to the store vs DuckDB's read_json loading the same rows.

    python -m bench.store_append [--rows N]

Both sides start from the same rows (generated once, written as NDJSON for the baseline) and
end with them in a table of a fresh DuckDB file. Ours also deduplicates on event_id.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.measure import peak_rss_mb, run_side
from bench.results import write_section

BATCH = 20_000
COMMANDS = [
    "git status",
    "npm test",
    "ls -la src",
    "rm -rf build",
    "pytest -q",
    "cat README.md",
    "curl -s https://example.com/api/health",
    "docker compose up -d",
    "make lint",
]


def generate(rows: int, seed: int = 7):
    from agentaudit.schema import new_event, raw_json

    rnd = random.Random(seed)
    start = datetime(2026, 4, 24, tzinfo=UTC)
    for i in range(rows):
        command = rnd.choice(COMMANDS)
        record = {"i": i, "command": command, "cwd": "/home/dev/project", "session": f"s{i // 500}"}
        yield new_event(
            "bench.synthetic",
            f"bench-{i}",
            source_path="bench",
            source_offset=i * 120,
            seq=i,
            parser_version="bench/1",
            ingested_at=start,
            time=start + timedelta(milliseconds=37 * i),
            time_precision="ms",
            agent="claude-code",
            session_id=f"s{i // 500}",
            tool_call_id=f"toolu_{i:08d}",
            kind="process",
            tool_name="Bash",
            operation=command.split()[0],
            command=command,
            cwd="/home/dev/project",
            status="success",
            exit_code=0,
            destructive=command.startswith("rm"),
            categories=["fs_delete"] if command.startswith("rm") else None,
            severity="info",
            target_env="unknown",
            raw=raw_json(record),
        )


def side_ours(rows: int, db: Path) -> dict:
    from agentaudit.store import Store

    events = list(generate(rows))  # the input, like the baseline's file: not timed
    started = time.perf_counter()
    with Store.open(db) as store:
        for i in range(0, rows, BATCH):
            store.append_events(events[i : i + BATCH])
        count = store.count("events")
    return {"seconds": time.perf_counter() - started, "rows": count, "peak_rss_mb": peak_rss_mb()}


def side_duckdb(ndjson: Path, db: Path) -> dict:
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute(
        f"CREATE TABLE events AS SELECT * FROM read_json('{ndjson}', format='newline_delimited')"
    )
    count = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    con.close()
    return {"seconds": time.perf_counter() - started, "rows": count, "peak_rss_mb": peak_rss_mb()}


def write_ndjson(rows: int, path: Path) -> None:
    with path.open("w") as out:
        for ev in generate(rows):
            out.write(json.dumps(ev, default=str) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--side", choices=["ours", "duckdb"])
    parser.add_argument("--data")
    parser.add_argument("--db")
    args = parser.parse_args()
    if args.side == "ours":
        print(json.dumps(side_ours(args.rows, Path(args.db))))
        return
    if args.side == "duckdb":
        print(json.dumps(side_duckdb(Path(args.data), Path(args.db))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        ndjson = Path(tmp) / "events.ndjson"
        write_ndjson(args.rows, ndjson)
        ours = run_side(
            "bench.store_append",
            "--side",
            "ours",
            "--rows",
            str(args.rows),
            "--db",
            f"{tmp}/ours.duckdb",
        )
        base = run_side(
            "bench.store_append",
            "--side",
            "duckdb",
            "--data",
            str(ndjson),
            "--db",
            f"{tmp}/base.duckdb",
        )
        size_mb = ndjson.stat().st_size / 1e6
    assert ours["rows"] == base["rows"] == args.rows, (ours, base)
    ours_rate, base_rate = args.rows / ours["seconds"], args.rows / base["seconds"]
    body = f"""## Store append (Foundation)

`python -m bench.store_append --rows {args.rows}`: {args.rows:,} canonical events ({size_mb:.0f} MB as NDJSON)
into a fresh DuckDB file. Ours: canonical event dicts already in memory, converted to Arrow and
appended in batches of {BATCH:,} with the event_id anti-join (dedup). Baseline: DuckDB `CREATE TABLE AS SELECT * FROM read_json(...)` on the
same rows written as NDJSON (file writing not timed). Each side runs in its own process.

| side | seconds | rows/s | peak RSS MB |
|---|---:|---:|---:|
| agentaudit `Store.append_events` | {ours["seconds"]:.2f} | {ours_rate:,.0f} | {ours["peak_rss_mb"]:.0f} |
| DuckDB `read_json` | {base["seconds"]:.2f} | {base_rate:,.0f} | {base["peak_rss_mb"]:.0f} |

**Throughput ratio (ours / read_json): {ours_rate / base_rate:.2f}**. Peak RSS of ours includes the
input events held in memory, as the baseline's input is a file.
"""
    write_section("store_append", body)
    sys.stdout.write(body)


if __name__ == "__main__":
    main()
