"""Enrich once: what filling the detection columns at ingest costs, and what detect saves.

    python -m bench.enrich_once --base <git revision> [--mb 50] [--cloudtrail 100000]
                                [--events 200000] [--repeat 3]

Two trees side by side: this checkout ("ours") and `--base` (the code before issue 14's
taxonomy work: `git archive` of that revision into a temporary directory). Each measurement
runs in its own process with its tree first on `sys.path`, alternating base and ours
`--repeat` times; medians are compared as ratios (ours / base):

- ingest: `ingest_paths(jobs=1)` of generated Claude Code transcripts and a generated
  CloudTrail document into a fresh store (collect, redact, analyse, classify, store);
- detect: `run_detection` with every built-in detector on a store of generated normal
  sessions plus every scenario replay (built by the same tree, not timed).

CPU seconds are the process's own (DuckDB's threads included), so other jobs on this shared
machine change wall time more than CPU time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from bench.results import write_section

REPO = Path(__file__).resolve().parents[1]
SIDES = Path(__file__).resolve()  # this file holds the side functions, run in each tree


def side_ingest(transcripts: str, cloudtrail: str, db: str) -> dict:
    import time

    from agentaudit.enrich.secrets import Redactor
    from agentaudit.ingest import ingest_paths
    from agentaudit.store import Store
    from agentaudit.testing import TEST_KEY

    files = sorted(Path(transcripts).glob("*/*.jsonl"))
    started, cpu = time.perf_counter(), time.process_time()
    with Store.open(db) as store:
        ingest_paths(store, files, source="claude-code.transcript", redactor=Redactor(TEST_KEY))
        ingest_paths(
            store, [Path(cloudtrail)], source="aws.cloudtrail", redactor=Redactor(TEST_KEY)
        )
        rows = store.count("events")
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "rows": rows,
    }


def side_enrich(transcripts: str, cloudtrail: str) -> dict:
    """Collect and enrich, no store: the part of ingest this work changed."""
    import time

    from agentaudit.collectors import get_collector
    from agentaudit.collectors.base import SourceInput
    from agentaudit.enrich.secrets import Redactor
    from agentaudit.ingest.records import batches as _batches
    from agentaudit.ingest.records import enrich_events
    from agentaudit.testing import TEST_KEY

    redactor, rows = Redactor(TEST_KEY), 0
    work = [(p, "claude-code.transcript") for p in sorted(Path(transcripts).glob("*/*.jsonl"))]
    work.append((Path(cloudtrail), "aws.cloudtrail"))
    started, cpu = time.perf_counter(), time.process_time()
    for path, name in work:
        with path.open("rb") as fh:
            for events, _bad in _batches(get_collector(name).collect(SourceInput(str(path), fh))):
                enrich_events(events, redactor)
                rows += len(events)
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "rows": rows,
    }


def side_detect(events: str, db: str) -> dict:
    import time

    from agentaudit.detect.anomaly.synthetic import SessionGenerator
    from agentaudit.detect.driver import run_detection
    from agentaudit.ingest import ingest_paths
    from agentaudit.scenarios import scenario_files
    from agentaudit.scenarios.replay import scenario_names
    from agentaudit.store import Store

    wanted, generator = int(events), SessionGenerator(seed=11)
    with Store.open(db) as store:
        batch, number = [], 0
        while store.count("events") + len(batch) < wanted:
            batch += list(generator.session(number))
            number += 1
            if len(batch) >= 50_000:
                store.append_events(batch)
                batch = []
        store.append_events(batch)
        for name in scenario_names():
            ingest_paths(store, scenario_files(name))
        rows = store.count("events")
        started, cpu = time.perf_counter(), time.process_time()
        report = run_detection(store)
        seconds, used = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "cpu": used, "rows": rows, "findings": len(report.findings)}


def _run(tree: Path, side: str, *args: str) -> dict:
    code = (
        "import json, sys, importlib.util\n"
        f"sys.path.insert(0, {str(tree)!r})\n"
        f"spec = importlib.util.spec_from_file_location('sides', {str(SIDES)!r})\n"
        "sides = importlib.util.module_from_spec(spec); spec.loader.exec_module(sides)\n"
        f"print(json.dumps(sides.{side}(*sys.argv[1:])))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, cwd=tree
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _tree(revision: str, into: Path) -> tuple[Path, str]:
    commit = subprocess.run(
        ["git", "rev-parse", revision], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.strip()
    archive = subprocess.run(["git", "archive", commit], capture_output=True, check=True, cwd=REPO)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="fully_trusted")  # our own repository's files and links
    return into, commit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git revision of the baseline tree")
    parser.add_argument("--mb", type=int, default=50, help="MB of generated transcripts")
    parser.add_argument("--cloudtrail", type=int, default=100_000, help="CloudTrail records")
    parser.add_argument("--events", type=int, default=200_000, help="events in the detect store")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from bench.cloudtrail_ingest import write_file
    from bench.transcript_ingest import generate

    work = Path(tempfile.mkdtemp(prefix="agentaudit-bench-enrich-"))
    transcripts = generate(args.mb)
    cloudtrail = work / "cloudtrail.json"
    write_file(args.cloudtrail, cloudtrail)
    base, commit = _tree(args.base, work / "base")
    runs: dict[str, dict[str, list[dict]]] = {"collect + enrich": {}, "ingest": {}, "detect": {}}
    for i in range(args.repeat):
        for name, tree in (("base", base), ("ours", REPO)):
            db = work / f"{name}-{i}"
            runs["collect + enrich"].setdefault(name, []).append(
                _run(tree, "side_enrich", str(transcripts), str(cloudtrail))
            )
            runs["ingest"].setdefault(name, []).append(
                _run(tree, "side_ingest", str(transcripts), str(cloudtrail), f"{db}-i.duckdb")
            )
            runs["detect"].setdefault(name, []).append(
                _run(tree, "side_detect", str(args.events), f"{db}-d.duckdb")
            )
    write_section("enrich_once", _report(args, commit, runs))
    print(json.dumps(runs))


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _least(runs: list[dict], key: str) -> float:
    return min(r[key] for r in runs)


def _report(args: argparse.Namespace, commit: str, runs: dict) -> str:
    import os

    rows, ratios = [], []
    for what, sides in runs.items():
        for name in ("base", "ours"):
            r = sides[name]
            extra = f", {r[0]['findings']:,} findings" if "findings" in r[0] else ""
            rows.append(
                f"| {what} | {name} | {_median(r, 'seconds'):.2f} | {_median(r, 'cpu'):.2f} | "
                f"{_least(r, 'cpu'):.2f} | {r[0]['rows']:,} rows{extra} |"
            )
        median = _median(sides["ours"], "cpu") / _median(sides["base"], "cpu")
        least = _least(sides["ours"], "cpu") / _least(sides["base"], "cpu")
        ratios.append(f"{what} {median:.2f} (least {least:.2f})")
    return f"""## Enrich once: ingest cost and detect savings (issue 14)

`python -m bench.enrich_once --base {args.base} --mb {args.mb} --cloudtrail {args.cloudtrail} --events {args.events} --repeat {args.repeat}`:
this checkout against the code of `{commit[:10]}` (before the detection columns were filled at
ingest), each measurement in its own process, the two trees alternating, {args.repeat} runs
each. Collect + enrich: {args.mb} MB of generated Claude Code transcripts and a generated
CloudTrail document of {args.cloudtrail:,} records through the collectors and enrichment, no
store (the part this work changed). Ingest: the same into a fresh store,
`ingest_paths(jobs=1)`. Detect: `run_detection` (links and every built-in detector) on a store
of generated sessions plus every scenario replay ({args.events:,} events asked), built by the
same tree (not timed).

| step | tree | wall s (median) | CPU s (median) | CPU s (least) | output |
|---|---|---:|---:|---:|---|
{chr(10).join(rows)}

**Ratios (ours / base, CPU): {"; ".join(ratios)}.** The least CPU of the runs is the
figure least disturbed by other work on this shared machine; load average at the end:
{os.getloadavg()[0]:.1f} on 2 cores.
"""


if __name__ == "__main__":
    main()
