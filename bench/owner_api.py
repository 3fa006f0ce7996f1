"""On-call reads through the store's owner (issue 23) vs the same reads on the store opened
directly, on the same file.

    python -m bench.owner_api [--events 100000] [--repeat 5]

The store is bench.analyst's (generated sessions through the real store, linker and
detectors). Direct: the library calls behind `incidents list`, `incidents show`, `timeline
--session` and a `query`, on `Store.open(read_only=True)`. Owned: a process holds the store
writable with an `OwnerServer` (as `watch` does) and the same calls run on a `RemoteStore`
from another process: every query crosses the unix socket, passes the SQL gate and comes
back as Arrow IPC. Each side in its own process; median of `--repeat` runs per call.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.analyst import INCIDENT_EVERY, SESSION_ROWS
from bench.measure import run_side
from bench.results import write_section

QUERY = "SELECT rule_id, session_id, severity, title, first_seen FROM findings ORDER BY ALL"
HOLD = (
    "import sys; from agentaudit.store import Store; from agentaudit.owner.server import "
    "OwnerServer; s = Store.open(sys.argv[1]); o = OwnerServer(s, command='bench').start(); "
    "print('owned', flush=True); sys.stdin.read(); o.stop(); s.close()"
)


def calls(store, session: str) -> dict:
    from agentaudit.analyst.incidents import get_incident, list_incidents
    from agentaudit.analyst.timeline_steps import report_for

    first = list_incidents(store)[0]["incident_id"]
    return {
        "incidents list": lambda: list_incidents(store),
        "incidents show": lambda: get_incident(store, first),
        "timeline --session": lambda: report_for(store, session=session),
        "query (findings)": lambda: store.rows(QUERY),
    }


def side(db: Path, session: str, owned: bool, repeat: int) -> dict:
    from agentaudit.owner.client import RemoteStore, owner_for
    from agentaudit.store import Store

    if owned:
        client = owner_for(db)
        assert client is not None, "no owner answers for the store"
        store = RemoteStore(client)
    else:
        store = Store.open(db, read_only=True)
    results = {}
    for name, call in calls(store, session).items():
        seconds = []
        for _ in range(repeat):
            started = time.perf_counter()
            call()
            seconds.append(time.perf_counter() - started)
        results[name] = statistics.median(seconds)
    store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--side", choices=["direct", "owned"])
    parser.add_argument("--db")
    args = parser.parse_args()
    sessions = args.events // SESSION_ROWS
    session = f"sess-{sessions // 2 + 7 - (sessions // 2) % INCIDENT_EVERY}"
    if args.side:
        owned = args.side == "owned"
        print(json.dumps(side(Path(args.db), session, owned, args.repeat)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/store.duckdb"
        run_side("bench.analyst", "--side", "build", "--events", str(args.events), "--db", db)
        direct = run_side("bench.owner_api", "--side", "direct", "--events", str(args.events),
                          "--repeat", str(args.repeat), "--db", db)  # fmt: skip
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD, db], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "owned"
            owned = run_side("bench.owner_api", "--side", "owned", "--events", str(args.events),
                             "--repeat", str(args.repeat), "--db", db)  # fmt: skip
        finally:
            assert holder.stdin is not None
            holder.stdin.close()
            holder.wait(60)
    rows = [
        f"| `{name}` | {direct[name]:.3f} | {owned[name]:.3f} | {owned[name] / direct[name]:.2f} |"
        for name in direct
    ]
    body = f"""## On-call reads through the store's owner (issue 23)

`python -m bench.owner_api --events {args.events} --repeat {args.repeat}`: bench.analyst's
store of {args.events:,} generated events. Direct: the library calls on the store opened
read-only. Owned: another process holds the store with an `OwnerServer` (as `watch` and
`serve` do) and the same calls run on a `RemoteStore` (each query over the unix socket, the
SQL gate, a READ ONLY transaction, Arrow IPC back). Median of {args.repeat} runs each.

| call | direct s | through the owner s | ratio |
|---|---:|---:|---:|
{chr(10).join(rows)}
"""
    write_section("owner_api", body)
    sys.stdout.write(body)


if __name__ == "__main__":
    main()
