"""The storage format new stores are written in (DuckDB 1.5's) vs DuckDB 2's default format.

    python -m bench.store_format [--rows N]

Same events (bench.store_append's generator), same Store code; the only difference is the
storage version the file is created with. Measured per side, each in its own process: CPU
seconds of the appends, file size after close, CPU seconds of a detection-like scan
(`event_sessions` grouped by session, destructive rows) repeated 5 times.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench.measure import cpu_seconds, run_side
from bench.results import write_section
from bench.store_append import BATCH, generate

SCAN = """
SELECT session_key, count(*) AS events, count(*) FILTER (WHERE destructive) AS destructive,
       min(step_time), max(step_time), count(DISTINCT call_key)
FROM event_sessions GROUP BY session_key
"""


def side(rows: int, db: Path, storage: str) -> dict:
    from agentaudit.store import Store, files

    files.STORAGE_VERSION = storage  # the one difference between the sides
    events = list(generate(rows))  # the input: not measured
    started = cpu_seconds()
    with Store.open(db) as store:
        for i in range(0, rows, BATCH):
            store.append_events(events[i : i + BATCH])
        written = files.storage_version(store.con)
    append_cpu = cpu_seconds() - started
    size = db.stat().st_size
    with Store.open(db, read_only=True) as store:
        started = cpu_seconds()
        for _ in range(5):
            groups = len(store.rows(SCAN))
        scan_cpu = cpu_seconds() - started
    return {
        "storage": written,
        "append_cpu": append_cpu,
        "bytes": size,
        "scan_cpu": scan_cpu,
        "groups": groups,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--side")
    parser.add_argument("--db")
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(args.rows, Path(args.db), args.side)))
        return
    from agentaudit.store.files import STORAGE_VERSION

    with tempfile.TemporaryDirectory() as tmp:
        sides = {}
        for name, storage in (("ours", STORAGE_VERSION), ("duckdb 2 default", "latest")):
            sides[name] = run_side(
                "bench.store_format", "--side", storage, "--rows", str(args.rows),
                "--db", f"{tmp}/{storage}.duckdb",
            )  # fmt: skip
    ours, base = sides["ours"], sides["duckdb 2 default"]
    assert ours["groups"] == base["groups"]
    rows = "\n".join(
        f"| {name} (`{s['storage']}`) | {s['append_cpu']:.2f} | {s['bytes'] / 1e6:.1f} "
        f"| {s['scan_cpu']:.2f} |"
        for name, s in sides.items()
    )
    body = f"""## Store format: DuckDB 1.5's storage (new stores) vs DuckDB 2's default

`python -m bench.store_format --rows {args.rows}`: {args.rows:,} events (bench.store_append's
generator) appended by `Store.append_events` in batches of {BATCH:,} to a new store, then a
detection-like scan of `event_sessions` grouped by session, 5 times; each side in its own
process, the same code, only the file's storage version differs.

| side | append CPU s | file MB | scan CPU s (5x) |
|---|---:|---:|---:|
{rows}

**Ratios (ours / DuckDB 2's format): append CPU {ours["append_cpu"] / base["append_cpu"]:.2f},
file size {ours["bytes"] / base["bytes"]:.2f}, scan CPU {ours["scan_cpu"] / base["scan_cpu"]:.2f}.**"""
    write_section("store_format", body)
    print(body)


if __name__ == "__main__":
    main()
