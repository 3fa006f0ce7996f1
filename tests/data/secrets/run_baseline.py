"""Run the planted-secrets corpus through an installed agentaudit and report every leak.

    python tests/data/secrets/run_baseline.py --agentaudit /work/main/.venv/bin/agentaudit \
        --work /tmp/planted-baseline > tests/data/secrets/BASELINE.md

Steps (each a subprocess of the given `agentaudit`, in a fresh AGENTAUDIT_HOME):
  1. `write_sources` into WORK/inputs
  2. `ingest --db WORK/store.duckdb WORK/inputs`
  3. `detect --notify json://127.0.0.1:PORT/alerts`, a loopback receiver in this process
     keeping every delivered body in WORK/delivered/
  4. `export --no-cursor --format F --out WORK/exports/all.F` for ocsf, ecs, hec, cef
  5. `timeline --from ... --to ... --format F --out WORK/timeline.F` for json, markdown, html
  6. `scan_store` of every column of every table; `scan_paths` of the exports, the timelines,
     the delivered bodies, the WAL (if one is left) and AGENTAUDIT_HOME (logs, spools)
and prints a Markdown report. Loopback only; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))

from tests.planted_secrets import (  # noqa: E402
    CARRIERS,
    SHAPES,
    scan_bytes,
    scan_paths,
    scan_store,
    write_sources,
)


class _Receiver(HTTPServer):
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.count += 1
                (
                    receiver.directory / f"{receiver.count:04d}{self.path.replace('/', '_')}.body"
                ).write_bytes(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


# Run in the tool's own interpreter: the redactor alone, on each carrier's text, so a leak can be
# told apart as "the redactor does not see it" or "the pipeline does not redact that column".
_PROBE = """
import json, sys
from agentaudit.secrets import Redactor
redactor = Redactor(b"k" * 32)
print(json.dumps([redactor.redact(text).text for text in json.load(sys.stdin)]))
"""


def _probe_redactor(tool: str) -> dict[str, list[str]] | None:
    """shape -> carriers whose text still holds the value after `Redactor.redact`."""
    python = Path(tool).parent / "python"
    items = []
    for shape in SHAPES:
        for carrier in CARRIERS.values():
            if carrier.group == "malformed" or not carrier.applies(shape):
                continue
            rendered = carrier.render(shape)
            if isinstance(rendered, tuple):
                rendered = rendered[1]
            if not isinstance(rendered, str):
                rendered = json.dumps(rendered)
            items.append((shape, carrier.name, rendered))
    done = subprocess.run(
        [str(python), "-c", _PROBE],
        input=json.dumps([text for _, _, text in items]),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return None
    missed: dict[str, list[str]] = defaultdict(list)
    for (shape, carrier, _text), redacted in zip(items, json.loads(done.stdout), strict=True):
        if scan_bytes(redacted, [shape]):
            missed[shape.name].append(carrier)
    return missed


def _run(cmd: list[str], env: dict[str, str], log: list[str], timeout: int = 900) -> int:
    started = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    took = time.monotonic() - started
    shown = " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))
    log.append(f"`{shown}` -> exit {done.returncode} in {took:.1f} s")
    if done.returncode != 0:
        log.append("  stderr: " + done.stderr.strip().replace("\n", " | ")[:400])
    return done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agentaudit", default=str(Path(sys.executable).parent / "agentaudit"))
    parser.add_argument("--work", default="/tmp/planted-baseline")
    args = parser.parse_args()
    tool = args.agentaudit
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    (work / "home").mkdir(parents=True)
    (work / "delivered").mkdir()
    (work / "exports").mkdir()
    env = {**os.environ, "AGENTAUDIT_HOME": str(work / "home"), "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("AGENTAUDIT_DB", None)
    db = work / "store.duckdb"
    log: list[str] = []

    paths = write_sources(work / "inputs")
    size = sum(p.stat().st_size for p in paths)
    log.append(f"write_sources: {len(paths)} files, {size / 1e6:.1f} MB, {len(SHAPES)} shapes")

    _run([tool, "ingest", "--db", str(db), "--json", str(work / "inputs")], env, log)
    receiver = _Receiver(work / "delivered")
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"json://127.0.0.1:{receiver.server_address[1]}/alerts"
        _run([tool, "detect", "--db", str(db), "--notify", url], env, log)
    finally:
        receiver.shutdown()
    log.append(f"loopback receiver: {receiver.count} bodies delivered")
    for fmt in ("ocsf", "ecs", "hec", "cef"):
        out = work / "exports" / f"all.{fmt}"
        _run(
            [tool, "export", "--db", str(db), "--no-cursor", "--format", fmt, "--out", str(out)],
            env,
            log,
        )
    window = ["--from", "2026-05-20T00:00:00Z", "--to", "2026-05-21T00:00:00Z"]
    for fmt, ext in (("json", "json"), ("markdown", "md"), ("html", "html")):
        out = work / f"timeline.{ext}"
        _run(
            [tool, "timeline", "--db", str(db), *window, "--format", fmt, "--out", str(out)],
            env,
            log,
        )

    wal = Path(str(db) + ".wal")
    store_hits = scan_store(db, SHAPES)
    file_targets = [work / "exports", work / "delivered", work / "home"]
    file_targets += [p for p in work.glob("timeline.*")]
    if wal.exists():
        file_targets.append(wal)
    file_hits = scan_paths(file_targets, SHAPES)

    places: dict[str, set[str]] = defaultdict(set)
    rows_per_place: dict[str, int] = defaultdict(int)
    for hit in store_hits:
        place = f"{hit.where.removeprefix('main.')}.{hit.column}"
        places[hit.shape].add(place)
        rows_per_place[place] += 1
    for hit in file_hits:
        rel = Path(hit.where).relative_to(work)
        place = "delivered" if rel.parts[0] == "delivered" else str(rel)
        if rel.parts[0] == "home":
            place = f"home/{'/'.join(rel.parts[1:])}"
        places[hit.shape].add(place)
        rows_per_place[place] += 1

    table_counts = _table_counts(db)
    probe = _probe_redactor(tool)

    today = datetime.now(UTC).strftime("%Y-%m-%d")
    head = subprocess.run(
        ["git", "-C", str(Path(tool).resolve().parents[2]), "log", "-1", "--format=%h %s"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"# Planted-secrets baseline: today's main, before fixes ({today})\n")
    print(
        "Produced by `tests/data/secrets/run_baseline.py` with the main checkout's installed tool "
        f"(`{tool}`, main at `{head or 'unknown'}`). Nothing was fixed; this is the state the "
        "redactor fix starts from. Every hit is a planted fake value (or a distinctive part of at "
        "least 12 characters) found in clear.\n"
    )
    print("## Run\n")
    for line in log:
        print(f"- {line}")
    print("- rows per table after the run: " + ", ".join(f"{t} {n}" for t, n in table_counts))
    print(
        f"- store hits (table, column, row): {len(store_hits)}; file hits (file, shape): {len(file_hits)}"
    )
    leaked = sorted(places)
    clean = sorted(s.name for s in SHAPES if s.name not in places)
    print(f"- shapes found in clear somewhere: {len(leaked)} of {len(SHAPES)}\n")
    print("## Where each place leaks (hits = rows for tables, files for paths)\n")
    print("| place | hits | shapes |")
    print("|---|---:|---:|")
    by_place: dict[str, set[str]] = defaultdict(set)
    for shape, where in places.items():
        for place in where:
            by_place[place].add(shape)
    for place in sorted(by_place, key=lambda p: (-len(by_place[p]), p)):
        print(f"| {place} | {rows_per_place[place]} | {len(by_place[place])} |")
    print("\n## Which shapes leak where\n")
    print("| shape | places found in clear |")
    print("|---|---|")
    for shape in SHAPES:
        where = sorted(places.get(shape.name, ()))
        print(
            f"| {shape.name} | {', '.join(where) if where else '**none** (redacted everywhere)'} |"
        )
    if clean:
        print(f"\nShapes never found in clear: {', '.join(clean)}.")
    if probe is not None:
        print(
            "\n## The redactor alone (`agentaudit.secrets.Redactor.redact` on each carrier's text)\n"
        )
        print(
            "Each carrier's rendered text (a command line, a file as printed, a provider record as "
            "JSON, the OTLP records as JSON) redacted by the installed tool's redactor; listed are "
            "the carriers whose output still holds the value or a distinctive part of it. A shape "
            "clean here but leaking above leaks through a column the pipeline does not redact.\n"
        )
        print("| shape | carriers the redactor misses |")
        print("|---|---|")
        for shape in SHAPES:
            missed = probe.get(shape.name, [])
            print(f"| {shape.name} | {', '.join(missed) if missed else 'none'} |")
    summary = {
        "shapes_leaked": len(leaked),
        "shapes": len(SHAPES),
        "store_hits": len(store_hits),
        "file_hits": len(file_hits),
    }
    (work / "summary.json").write_text(json.dumps(summary, indent=2))
    return 0


def _table_counts(db: Path) -> list[tuple[str, int]]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [
            row[0]
            for row in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' ORDER BY 1"
            ).fetchall()
        ]
        return [(t, con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables]
    finally:
        con.close()


if __name__ == "__main__":
    sys.exit(main())
